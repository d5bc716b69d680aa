//! The database schema, as diesel sees it. Portable types only: ids are UUID text and
//! timestamps UTC `TIMESTAMP`, so one code path serves SQLite and PostgreSQL.

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        display_name -> Text,
        password_hash -> Text,
        time_zone -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Text,
        family_id -> Text,
        user_id -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    community_groups (id) {
        id -> Text,
        name -> Text,
        description -> Text,
        invite_code -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    memberships (id) {
        id -> Text,
        group_id -> Text,
        user_id -> Text,
        role -> Text,
        joined_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    custom_templates (id) {
        id -> Text,
        group_id -> Text,
        key -> Text,
        language -> Text,
        name -> Text,
        description -> Text,
        duration_weeks -> Integer,
        cadence_days -> Integer,
        questions -> Text,
        weeks -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    programs (id) {
        id -> Text,
        group_id -> Text,
        template_key -> Text,
        language -> Text,
        name -> Text,
        description -> Text,
        status -> Text,
        matching -> Text,
        duration_weeks -> Integer,
        cadence_days -> Integer,
        default_capacity -> Integer,
        requires_approval -> Bool,
        auto_match_threshold -> Integer,
        questions -> Text,
        weeks -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        week_count -> Integer,
    }
}

diesel::table! {
    enrolments (id) {
        id -> Text,
        program_id -> Text,
        user_id -> Text,
        role -> Text,
        status -> Text,
        capacity -> Integer,
        active_pairings -> Integer,
        answers -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    pairings (id) {
        id -> Text,
        program_id -> Text,
        mentor_enrolment_id -> Text,
        mentee_enrolment_id -> Text,
        mentor_user_id -> Text,
        mentee_user_id -> Text,
        introduction -> Text,
        status -> Text,
        started_on -> Date,
        created_at -> Timestamp,
        ended_at -> Nullable<Timestamp>,
        ended_by -> Nullable<Text>,
        end_reason -> Nullable<Text>,
        next_event_at -> Nullable<Timestamp>,
        version -> BigInt,
    }
}
diesel::table! {
    /// Each pairing once per partner, with its program's group, written by a trigger on
    /// `pairings`: `list_for_user` and `all_for_user` walk it.
    pairings_by_partner (user_id, pairing_id) {
        user_id -> Text,
        pairing_id -> Text,
        group_id -> Text,
    }
}
diesel::table! {
    check_in_entries (pairing_id, number, user_id) {
        pairing_id -> Text,
        number -> Integer,
        user_id -> Text,
        rating -> Integer,
        note -> Nullable<Text>,
        completed_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}
diesel::table! {
    calendar_tokens (user_id) {
        user_id -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    notifications (id) {
        id -> Text,
        user_id -> Text,
        kind -> Text,
        data -> Text,
        dedupe_key -> Nullable<Text>,
        created_at -> Timestamp,
        read_at -> Nullable<Timestamp>,
        version -> BigInt,
    }
}

diesel::table! {
    idempotency_keys (scope, key) {
        scope -> Text,
        key -> Text,
        request_hash -> Text,
        status -> Integer,
        content_type -> Nullable<Text>,
        body -> Nullable<Text>,
        etag -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    messages (id) {
        id -> Text,
        pairing_id -> Text,
        author_id -> Text,
        week -> Nullable<Integer>,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    blocks (group_id, user_low, user_high) {
        group_id -> Text,
        user_low -> Text,
        user_high -> Text,
        blocker_user_id -> Text,
        blocked_user_id -> Text,
        pairing_id -> Text,
        reason -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    reports (id) {
        id -> Text,
        group_id -> Text,
        program_id -> Text,
        pairing_id -> Text,
        reporter_user_id -> Text,
        reported_user_id -> Text,
        reason -> Text,
        status -> Text,
        created_at -> Timestamp,
        resolved_at -> Nullable<Timestamp>,
        resolved_by -> Nullable<Text>,
        version -> BigInt,
    }
}

diesel::joinable!(pairings -> programs (program_id));
diesel::joinable!(messages -> pairings (pairing_id));
diesel::joinable!(messages -> users (author_id));
diesel::joinable!(check_in_entries -> pairings (pairing_id));
diesel::joinable!(pairings_by_partner -> pairings (pairing_id));
diesel::joinable!(calendar_tokens -> users (user_id));
diesel::joinable!(notifications -> users (user_id));
diesel::joinable!(custom_templates -> community_groups (group_id));
diesel::joinable!(programs -> community_groups (group_id));
diesel::joinable!(enrolments -> programs (program_id));
diesel::joinable!(enrolments -> users (user_id));
diesel::joinable!(refresh_tokens -> users (user_id));
diesel::joinable!(memberships -> community_groups (group_id));
diesel::joinable!(memberships -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    refresh_tokens,
    community_groups,
    memberships,
    custom_templates,
    programs,
    enrolments,
    pairings,
    pairings_by_partner,
    check_in_entries,
    calendar_tokens,
    notifications,
    idempotency_keys,
    messages,
    blocks,
    reports,
);
