use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::helpers::{cascade, created_at, drop, instant, instant_null, updated_at};
use crate::m20261122_000001_create_users::Users;
use crate::m20261122_000003_create_calendars::Calendars;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum Events {
    Table,
    Id,
    /// Copied from the calendar so "events of a user overlapping [a, b)" is one index range scan.
    UserId,
    CalendarId,
    Provider,
    ProviderEventId,
    IcalUid,
    /// The provider's id of the series an instance or exception belongs to.
    RecurringEventId,
    /// For an exception of a series: the start the occurrence had before it was moved.
    OriginalStartAt,
    Title,
    Description,
    Location,
    /// UTC instants; for an all-day event, the start and end of its local dates in `timezone`.
    StartAt,
    EndAt,
    AllDay,
    /// Local dates of an all-day event, end exclusive as in iCalendar.
    StartDate,
    EndDate,
    /// IANA zone the event was defined in (the wall clock its recurrence follows).
    Timezone,
    /// confirmed | tentative | cancelled
    Status,
    /// false for free/transparent events
    Busy,
    /// accepted | declined | tentative | needs_action, null when the user is the organizer or unknown
    SelfResponse,
    /// RFC 5545 recurrence of a series master (RRULE value, EXDATE and RDATE as JSON arrays of instants).
    Rrule,
    Exdates,
    Rdates,
    /// End of the last occurrence (= end_at for a single event; far future for an unbounded series),
    /// so that a series is found by the same range query as a single event.
    RangeEndAt,
    OrganizerEmail,
    Attendees,
    Etag,
    ProviderUpdatedAt,
    /// Soft delete: the provider removed it; kept until clean-up so annotations can follow a resync.
    DeletedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Events as E;
        manager
            .create_table(
                Table::create()
                    .table(E::Table)
                    .col(pk_uuid(E::Id))
                    .col(uuid(E::UserId))
                    .col(uuid(E::CalendarId))
                    .col(string(E::Provider))
                    .col(string(E::ProviderEventId))
                    .col(string_null(E::IcalUid))
                    .col(string_null(E::RecurringEventId))
                    .col(instant_null(E::OriginalStartAt))
                    .col(text(E::Title).default(""))
                    .col(text_null(E::Description))
                    .col(text_null(E::Location))
                    .col(instant(E::StartAt))
                    .col(instant(E::EndAt))
                    .col(boolean(E::AllDay).default(false))
                    .col(date_null(E::StartDate))
                    .col(date_null(E::EndDate))
                    .col(string_null(E::Timezone))
                    .col(string(E::Status).default("confirmed"))
                    .col(boolean(E::Busy).default(true))
                    .col(string_null(E::SelfResponse))
                    .col(text_null(E::Rrule))
                    .col(json_null(E::Exdates))
                    .col(json_null(E::Rdates))
                    .col(instant(E::RangeEndAt))
                    .col(string_null(E::OrganizerEmail))
                    .col(json_null(E::Attendees))
                    .col(string_null(E::Etag))
                    .col(instant_null(E::ProviderUpdatedAt))
                    .col(instant_null(E::DeletedAt))
                    .col(created_at())
                    .col(updated_at())
                    .foreign_key(&mut cascade(E::Table, E::UserId, Users::Table))
                    .foreign_key(&mut cascade(E::Table, E::CalendarId, Calendars::Table))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_events_calendar_provider_event")
                    .table(E::Table)
                    .col(E::CalendarId)
                    .col(E::ProviderEventId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // WHERE user_id = ? AND start_at < :end AND range_end_at > :start
        manager
            .create_index(
                Index::create()
                    .name("ix_events_user_range")
                    .table(E::Table)
                    .col(E::UserId)
                    .col(E::StartAt)
                    .col(E::RangeEndAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_events_user_ical_uid")
                    .table(E::Table)
                    .col(E::UserId)
                    .col(E::IcalUid)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop(manager, Events::Table).await
    }
}
