//! Custom templates saved by a group, with their questions and guide as JSON text.
//!
//! The content is validated by the domain before it is stored; here it is only
//! written and read whole.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use tandem_domain::ids::{CustomTemplateId, GroupId};
use tandem_domain::template::{CustomTemplate, Language, TemplateContent};

use crate::convert::{corrupt, from_db_time, parse_id, to_db_time};
use crate::page::load_page;
use crate::schema::custom_templates;
use crate::{DbConn, Page, StoreError};

#[derive(Queryable, Selectable)]
#[diesel(table_name = custom_templates)]
struct CustomTemplateRow {
    id: String,
    group_id: String,
    key: String,
    language: String,
    name: String,
    description: String,
    duration_weeks: i32,
    cadence_days: i32,
    questions: String,
    weeks: String,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl CustomTemplateRow {
    fn into_parts(self) -> Result<(CustomTemplateId, CustomTemplate), StoreError> {
        let id = parse_id(&self.id, "custom template")?;
        let template = CustomTemplate {
            group_id: parse_id(&self.group_id, "group")?,
            content: TemplateContent {
                language: Language::from_code(&self.language)
                    .ok_or_else(|| corrupt(format!("template language {:?}", self.language)))?,
                key: self.key,
                name: self.name,
                description: self.description,
                duration_weeks: small(self.duration_weeks, "duration_weeks")?,
                cadence_days: small(self.cadence_days, "cadence_days")?,
                questions: serde_json::from_str(&self.questions)
                    .map_err(|e| corrupt(format!("template questions: {e}")))?,
                weeks: serde_json::from_str(&self.weeks)
                    .map_err(|e| corrupt(format!("template weeks: {e}")))?,
            },
            version: self.version,
            created_at: from_db_time(self.created_at),
            updated_at: from_db_time(self.updated_at),
        };
        Ok((id, template))
    }
}

fn small(value: i32, what: &str) -> Result<u16, StoreError> {
    u16::try_from(value).map_err(|_| corrupt(format!("stored {what} {value} out of range")))
}

fn json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| corrupt(format!("cannot serialise: {e}")))
}

/// What a custom template writes on insert: its identity, and its content.
#[derive(Insertable)]
#[diesel(table_name = custom_templates)]
struct NewCustomTemplate<'a> {
    id: String,
    group_id: String,
    key: &'a str,
    version: i64,
    created_at: NaiveDateTime,
    #[diesel(embed)]
    content: ContentColumns<'a>,
}

/// A template's content as columns: written whole by an insert and by an update (which
/// bumps the version beside it).
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = custom_templates)]
struct ContentColumns<'a> {
    language: &'a str,
    name: &'a str,
    description: &'a str,
    duration_weeks: i32,
    cadence_days: i32,
    questions: String,
    weeks: String,
    updated_at: NaiveDateTime,
}

impl<'a> ContentColumns<'a> {
    fn of(content: &'a TemplateContent, updated_at: DateTime<Utc>) -> Result<Self, StoreError> {
        Ok(Self {
            language: content.language.code(),
            name: &content.name,
            description: &content.description,
            duration_weeks: i32::from(content.duration_weeks),
            cadence_days: i32::from(content.cadence_days),
            questions: json(&content.questions)?,
            weeks: json(&content.weeks)?,
            updated_at: to_db_time(updated_at),
        })
    }
}

/// Saves a new custom template. A second template with the same key in the group is
/// refused by the database (`StoreError::Constraint`).
pub fn insert(conn: &mut DbConn, template: &CustomTemplate) -> Result<(), StoreError> {
    let content = &template.content;
    diesel::insert_into(custom_templates::table)
        .values(NewCustomTemplate {
            id: CustomTemplateId::new_v7(template.created_at).to_string(),
            group_id: template.group_id.to_string(),
            key: &content.key,
            version: template.version,
            created_at: to_db_time(template.created_at),
            content: ContentColumns::of(content, template.updated_at)?,
        })
        .execute(conn)?;
    Ok(())
}

/// The group's custom template with this key, if any.
pub fn find(
    conn: &mut DbConn,
    group_id: GroupId,
    key: &str,
) -> Result<Option<CustomTemplate>, StoreError> {
    custom_templates::table
        .filter(custom_templates::group_id.eq(group_id.to_string()))
        .filter(custom_templates::key.eq(key))
        .select(CustomTemplateRow::as_select())
        .first(conn)
        .optional()?
        .map(|row| row.into_parts().map(|(_, template)| template))
        .transpose()
}

/// Takes the row lock of the group's custom template with this key for the rest of the
/// transaction (a no-op update, as in `groups::lock_group`), so concurrent changes run
/// one after another. `StoreError::NotFound` when there is none.
pub fn lock(conn: &mut DbConn, group_id: GroupId, key: &str) -> Result<(), StoreError> {
    let locked = diesel::update(
        custom_templates::table
            .filter(custom_templates::group_id.eq(group_id.to_string()))
            .filter(custom_templates::key.eq(key)),
    )
    .set(custom_templates::version.eq(custom_templates::version))
    .execute(conn)?;
    if locked == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// The group's custom templates in the order they were created.
pub fn list(
    conn: &mut DbConn,
    group_id: GroupId,
    after: Option<CustomTemplateId>,
    limit: usize,
) -> Result<Page<CustomTemplate, CustomTemplateId>, StoreError> {
    let mut query = custom_templates::table
        .filter(custom_templates::group_id.eq(group_id.to_string()))
        .select(CustomTemplateRow::as_select())
        .order(custom_templates::id.asc())
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(custom_templates::id.gt(after.to_string()));
    }
    let page = load_page(
        conn,
        query,
        limit,
        CustomTemplateRow::into_parts,
        |(id, _)| *id,
    )?;
    Ok(page.map(|(_, template)| template))
}

/// Writes the template's content and bumps its version, provided the stored version is
/// still `template.version` (the one it was read at). `None` when it is not: another
/// change or a delete came first, and nothing was written.
pub fn update(
    conn: &mut DbConn,
    template: &CustomTemplate,
    now: DateTime<Utc>,
) -> Result<Option<CustomTemplate>, StoreError> {
    let content = &template.content;
    let updated = diesel::update(
        custom_templates::table
            .filter(custom_templates::group_id.eq(template.group_id.to_string()))
            .filter(custom_templates::key.eq(&content.key))
            .filter(custom_templates::version.eq(template.version)),
    )
    .set((
        ContentColumns::of(content, now)?,
        custom_templates::version.eq(custom_templates::version + 1),
    ))
    .execute(conn)?;
    if updated == 0 {
        return Ok(None);
    }
    find(conn, template.group_id, &content.key)
}

/// Deletes the group's custom template with this key if it is still at `version`;
/// `false` when it is gone or changed meanwhile (so a delete checked against `If-Match`
/// cannot remove a newer edit). Programs made from it keep their own copy.
pub fn delete(
    conn: &mut DbConn,
    group_id: GroupId,
    key: &str,
    version: i64,
) -> Result<bool, StoreError> {
    let deleted = diesel::delete(
        custom_templates::table
            .filter(custom_templates::group_id.eq(group_id.to_string()))
            .filter(custom_templates::key.eq(key))
            .filter(custom_templates::version.eq(version)),
    )
    .execute(conn)?;
    Ok(deleted > 0)
}
