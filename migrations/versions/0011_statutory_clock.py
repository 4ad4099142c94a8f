"""statutory_clock: the SEN2 person-level fields the clock uses, and the
stored clock columns with their partial indexes

person gains:
- assessment_outcome: 'assess' / 'not_assess' (SEN2: the outcome of the
  request; its date is assessment_decision_on);
- twenty_week_exception_reason: one of the SEN2 exception codes
  (send_portal/clock/deadlines.py EXCEPTION_REASONS), recorded when the 20
  weeks are missed for an allowed reason;
- clock_advice_on: the London date of the newest advice request not yet
  answered, kept by the application (send_portal/clock/__init__.py), so that
  At risk through outstanding advice is a condition on the index;
- clock_stage and clock_due_on: the stage of an open case and its next
  statutory deadline, worked out from the timeline dates whenever the record
  is written (send_portal/clock/__init__.py) and NULL for everyone without an
  open case. The clock then reads the open cases alone, from partial indexes,
  counts Overdue and Due this week as ranges and pages in deadline order
  without reading the other people.

No batch mode: person carries triggers (migrations 0005 and 0006), which
SQLite's batch rebuild would silently drop.

Revision ID: 0011_statutory_clock
Revises: 0010_kept_answers
Create Date: 2026-12-06 17:00:00

"""
from datetime import datetime
from types import SimpleNamespace

import sqlalchemy as sa
from alembic import op

revision = '0011_statutory_clock'
down_revision = '0010_kept_answers'
branch_labels = None
depends_on = None

OPEN = "clock_due_on IS NOT NULL"
FINAL = "final_plan_on IS NOT NULL"
REQUESTED = "request_received_on IS NOT NULL"
STAGE_COLUMNS = ['clock_stage', 'clock_due_on', 'id', 'request_received_on', 'assessment_decision_on', 'draft_plan_on',
                 'clock_advice_on']


def upgrade():
    op.add_column('person', sa.Column('assessment_outcome', sa.String(length=20), nullable=True))
    op.add_column('person', sa.Column('twenty_week_exception_reason', sa.String(length=20), nullable=True))
    op.add_column('person', sa.Column('clock_stage', sa.String(length=20), nullable=True))
    op.add_column('person', sa.Column('clock_due_on', sa.Date(), nullable=True))
    op.add_column('person', sa.Column('clock_advice_on', sa.Date(), nullable=True))

    # Existing records: the same rule the application applies on write.
    from send_portal.clock.deadlines import clock_fields

    bind = op.get_bind()
    person = sa.table(
        'person', sa.column('id'), sa.column('request_received_on', sa.Date), sa.column('assessment_decision_on', sa.Date),
        sa.column('draft_plan_on', sa.Date), sa.column('final_plan_on', sa.Date), sa.column('next_review_on', sa.Date),
        sa.column('case_status'), sa.column('assessment_outcome'), sa.column('clock_stage'), sa.column('clock_due_on', sa.Date),
        sa.column('clock_advice_on', sa.Date),
    )
    rows = bind.execute(sa.select(person).where(person.c.request_received_on.is_not(None))).mappings().all()
    for row in rows:
        stage, due_on = clock_fields(SimpleNamespace(**row))
        if stage:
            bind.execute(person.update().where(person.c.id == row['id']).values(clock_stage=stage, clock_due_on=due_on))

    from send_portal.clock.deadlines import london_today

    newest = {}
    for person_id, requested_at in bind.execute(sa.text(
        "SELECT involvement.person_id, form_request.requested_at FROM form_request "
        "JOIN involvement ON involvement.id = form_request.involvement_id "
        "WHERE NOT EXISTS (SELECT 1 FROM form_response WHERE form_response.form_request_id = form_request.id "
        "AND form_response.submitted_at IS NOT NULL)"
    )):
        if isinstance(requested_at, str):  # SQLite hands back text
            requested_at = datetime.fromisoformat(requested_at)
        day = london_today(requested_at)
        newest[person_id] = max(newest.get(person_id, day), day)
    for person_id, day in newest.items():
        bind.execute(person.update().where(person.c.id == person_id).values(clock_advice_on=day))

    op.create_index('ix_person_clock', 'person', ['clock_due_on', 'id'], unique=False,
                    sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))
    # The stage's start dates too: At risk is worked out from this index alone.
    op.create_index('ix_person_clock_stage', 'person', STAGE_COLUMNS, unique=False,
                    sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))
    # Advice asked for recently: the outstanding advice that can put an assessment at risk.
    op.create_index('ix_form_request_requested_at', 'form_request', ['requested_at'], unique=False)
    op.create_index('ix_person_final_plan_on', 'person', ['final_plan_on', 'request_received_on'], unique=False,
                    sqlite_where=sa.text(FINAL), postgresql_where=sa.text(FINAL))
    op.create_index('ix_person_request_received_on', 'person', ['request_received_on'], unique=False,
                    sqlite_where=sa.text(REQUESTED), postgresql_where=sa.text(REQUESTED))


def downgrade():
    op.drop_index('ix_person_request_received_on', table_name='person')
    op.drop_index('ix_person_final_plan_on', table_name='person')
    op.drop_index('ix_form_request_requested_at', table_name='form_request')
    op.drop_index('ix_person_clock_stage', table_name='person')
    op.drop_index('ix_person_clock', table_name='person')
    # Plain drop_column (SQLite 3.35+ drops a column in place): no batch mode.
    op.drop_column('person', 'clock_advice_on')
    op.drop_column('person', 'clock_due_on')
    op.drop_column('person', 'clock_stage')
    op.drop_column('person', 'twenty_week_exception_reason')
    op.drop_column('person', 'assessment_outcome')
