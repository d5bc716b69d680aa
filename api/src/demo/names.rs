//! The words of the demo in each language: people's names, the group, what partners
//! write to each other. Data only; the demo and the generator choose from it.

use tandem_domain::template::Language;

/// First names the generator combines with [`LAST_NAMES`].
pub fn first_names(language: Language) -> &'static [&'static str] {
    match language {
        Language::En => &[
            "Emma", "Olivia", "Amelia", "Isla", "Ava", "Mia", "Grace", "Lily", "Freya", "Ella",
            "Noah", "Oliver", "George", "Arthur", "Leo", "Harry", "Oscar", "Jack", "Theo", "Henry",
            "Priya", "Amir", "Chloe", "Daniel", "Hannah", "Samuel", "Ruth", "Kwame", "Sofia",
            "Ethan",
        ],
        Language::It => &[
            "Sofia",
            "Aurora",
            "Giulia",
            "Ginevra",
            "Vittoria",
            "Beatrice",
            "Alice",
            "Ludovica",
            "Emma",
            "Matilde",
            "Leonardo",
            "Francesco",
            "Tommaso",
            "Edoardo",
            "Alessandro",
            "Lorenzo",
            "Mattia",
            "Gabriele",
            "Riccardo",
            "Andrea",
            "Chiara",
            "Marco",
            "Elena",
            "Paolo",
            "Federica",
            "Davide",
            "Martina",
            "Luca",
            "Sara",
            "Matteo",
        ],
    }
}

/// Family names the generator combines with [`first_names`].
pub fn last_names(language: Language) -> &'static [&'static str] {
    match language {
        Language::En => &[
            "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies",
            "Patel", "Robinson", "Wright", "Thompson", "Evans", "Walker", "White", "Roberts",
            "Green", "Hall", "Wood", "Jackson", "Clarke", "Okafor", "Hughes", "Bennett",
        ],
        Language::It => &[
            "Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci",
            "Marino", "Greco", "Bruno", "Gallo", "Conti", "De Luca", "Mancini", "Costa",
            "Giordano", "Rizzo", "Lombardi", "Moretti", "Barbieri", "Fontana", "Santoro",
            "Mariani",
        ],
    }
}

/// Time zones the people of a language live in.
pub fn time_zones(language: Language) -> &'static [&'static str] {
    match language {
        Language::En => &["Europe/London", "Europe/Dublin", "America/New_York"],
        Language::It => &["Europe/Rome"],
    }
}

/// The demo community's group: name and description.
pub fn group(language: Language) -> (&'static str, &'static str) {
    match language {
        Language::En => (
            "Parents Together",
            "A friendly circle for new and expecting parents: experienced parents walk \
             alongside those just starting out, one conversation a week.",
        ),
        Language::It => (
            "Genitori Insieme",
            "Un gruppo accogliente per neo genitori e futuri genitori: chi ci è già passato \
             accompagna chi comincia ora, una chiacchierata a settimana.",
        ),
    }
}

/// The two programs: the one ending and the one running.
pub fn programs(language: Language) -> [(&'static str, &'static str); 2] {
    match language {
        Language::En => [
            (
                "New Parents — Spring Circle",
                "Our spring round of parent-to-parent mentoring. Its last pairs are finishing now.",
            ),
            (
                "New Parents — Autumn Circle",
                "Eight weeks with a parent who has been there. Enrolments are reviewed by the admins.",
            ),
        ],
        Language::It => [
            (
                "Neo Genitori — Cerchio di Primavera",
                "Il giro di primavera del mentoring tra genitori. Le ultime coppie stanno finendo.",
            ),
            (
                "Neo Genitori — Cerchio d'Autunno",
                "Otto settimane con un genitore che ci è già passato. Le iscrizioni sono approvate dagli admin.",
            ),
        ],
    }
}

/// The demo's people: display name and time zone. In order: the owner, an admin,
/// six mentors, ten mentees (the first mentee is the one the README invites to log in).
pub fn cast(language: Language) -> [(&'static str, &'static str); 18] {
    match language {
        Language::En => [
            ("Maya Thompson", "Europe/London"),
            ("Daniel Okafor", "Europe/London"),
            ("Sarah Mitchell", "Europe/London"),
            ("James O'Connor", "Europe/Dublin"),
            ("Priya Sharma", "Europe/London"),
            ("Hannah Becker", "Europe/London"),
            ("Tom Whitfield", "America/New_York"),
            ("Grace Liu", "Europe/London"),
            ("Emma Clarke", "Europe/London"),
            ("Lucy Evans", "Europe/London"),
            ("Olivia Hughes", "Europe/Dublin"),
            ("Ben Walker", "America/New_York"),
            ("Rosie Patel", "Europe/London"),
            ("Sophie Turner", "Europe/London"),
            ("Amir Haddad", "Europe/London"),
            ("Chloe Bennett", "Europe/London"),
            ("Mia Foster", "Europe/London"),
            ("Jack Reynolds", "Europe/London"),
        ],
        Language::It => [
            ("Chiara Bianchi", "Europe/Rome"),
            ("Marco Rossi", "Europe/Rome"),
            ("Francesca Romano", "Europe/Rome"),
            ("Luca Ferrari", "Europe/Rome"),
            ("Giulia Esposito", "Europe/Rome"),
            ("Alessandro Ricci", "Europe/Rome"),
            ("Elena Marino", "Europe/Rome"),
            ("Paolo Greco", "Europe/Rome"),
            ("Sofia Colombo", "Europe/Rome"),
            ("Martina Bruno", "Europe/Rome"),
            ("Giorgia Gallo", "Europe/Rome"),
            ("Davide Conti", "Europe/Rome"),
            ("Sara De Luca", "Europe/Rome"),
            ("Matteo Costa", "Europe/Rome"),
            ("Aurora Giordano", "Europe/Rome"),
            ("Federico Mancini", "Europe/Rome"),
            ("Alice Rizzo", "Europe/Rome"),
            ("Lorenzo Lombardi", "Europe/Rome"),
        ],
    }
}

/// Private notes partners leave with a check-in.
pub fn notes(language: Language) -> &'static [&'static str] {
    match language {
        Language::En => &[
            "Good call this week. Sleep is still rough but we have a plan for the evenings.",
            "Talked through feeding worries; feeling much calmer about it.",
            "Short chat, the baby was unsettled. We'll pick it up next week.",
            "Really helpful to hear that the first months were hard for them too.",
            "We set one small goal each: a walk every day and asking for help once.",
            "Went over the return-to-work plan and childcare visits.",
        ],
        Language::It => &[
            "Bella chiacchierata. Il sonno è ancora difficile ma abbiamo un piano per la sera.",
            "Abbiamo parlato dell'allattamento; mi sento molto più tranquilla.",
            "Chiamata breve, il bimbo era agitato. Riprendiamo la settimana prossima.",
            "Mi ha aiutato sapere che anche per loro i primi mesi sono stati duri.",
            "Ci siamo dati un piccolo obiettivo a testa: una passeggiata al giorno e chiedere aiuto.",
            "Abbiamo ripassato il piano per il rientro al lavoro e il nido.",
        ],
    }
}

/// What partners write in their pair space, alternating mentor and mentee.
pub fn messages(language: Language) -> &'static [&'static str] {
    match language {
        Language::En => &[
            "Hi! So glad we were paired. When suits you for a first chat?",
            "Hello! Evenings after 8 are best, once the little one is down.",
            "Perfect, Tuesday at 8:30 then. No pressure if the night goes sideways.",
            "Thank you for yesterday. I tried the wind-down routine you suggested and it helped.",
            "That's great to hear! It took us weeks to find ours, so be kind to yourself.",
            "Quick question: did you use a sling in the first months?",
            "We did, mostly for walks. Happy to lend you ours if you'd like to try it.",
            "Looking forward to this week's topic. I've written down a few questions.",
        ],
        Language::It => &[
            "Ciao! Che bello essere in coppia. Quando ti va bene una prima chiacchierata?",
            "Ciao! La sera dopo le 20 è perfetto, quando la piccola dorme.",
            "Benissimo, martedì alle 20:30. Nessun problema se la serata va storta.",
            "Grazie per ieri. Ho provato la routine della nanna che mi hai consigliato e funziona.",
            "Che bello! Noi ci abbiamo messo settimane a trovarla, quindi niente fretta.",
            "Una domanda veloce: usavate la fascia nei primi mesi?",
            "Sì, soprattutto per le passeggiate. Se vuoi provarla ti presto la nostra.",
            "Non vedo l'ora di parlare del tema di questa settimana. Mi sono segnata qualche domanda.",
        ],
    }
}

/// The reason of the demo's report.
pub fn report_reason(language: Language) -> &'static str {
    match language {
        Language::En => {
            "My mentor has missed our last two check-ins and hasn't answered my messages. \
             Could an admin look into it?"
        }
        Language::It => {
            "La mia mentore ha saltato gli ultimi due incontri e non risponde ai messaggi. \
             Un admin può verificare?"
        }
    }
}

/// A short text about the family, for the optional question.
pub fn about_family(language: Language) -> &'static [&'static str] {
    match language {
        Language::En => &[
            "Our first baby arrived in the spring; we live far from family.",
            "Two older kids at school and a new baby at home.",
            "Expecting twins in a few months!",
        ],
        Language::It => &[
            "Il nostro primo bimbo è nato in primavera; viviamo lontano dalle famiglie.",
            "Due figli già a scuola e una neonata a casa.",
            "Aspettiamo due gemelli tra qualche mese!",
        ],
    }
}

/// The part of an email address made from a display name: lower case ASCII letters,
/// words joined by dots ("James O'Connor" → "james.oconnor").
pub fn email_local_part(display_name: &str) -> String {
    display_name
        .split_whitespace()
        .map(|word| {
            word.chars()
                .filter(char::is_ascii_alphabetic)
                .map(|c| c.to_ascii_lowercase())
                .collect::<String>()
        })
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_local_parts_are_plain_ascii() {
        assert_eq!(email_local_part("James O'Connor"), "james.oconnor");
        assert_eq!(email_local_part("Sara De Luca"), "sara.de.luca");
    }

    #[test]
    fn every_language_has_a_whole_cast_with_distinct_names() {
        for language in Language::ALL {
            let mut emails: Vec<String> = cast(language)
                .iter()
                .map(|(name, _)| email_local_part(name))
                .collect();
            emails.sort();
            emails.dedup();
            assert_eq!(emails.len(), 18);
        }
    }
}
