"""payments: provider settings, payments, refunds, disputes and payment events

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

import warehouse.controldb.models

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

UTC = warehouse.controldb.models.UTCDateTime(timezone=True)


def _tenant_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id"],
        ["tenants.id"],
        ondelete="CASCADE",
        name=op.f(f"fk_{table}_tenant_id_tenants"),
    )


def _payment_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["payment_id"],
        ["payments.id"],
        ondelete="CASCADE",
        name=op.f(f"fk_{table}_payment_id_payments"),
    )


def _stamps() -> list[sa.Column]:
    return [
        sa.Column("state_at", UTC, nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "payment_providers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("secret_key_encrypted", sa.String(length=1024), nullable=True),
        sa.Column("webhook_secret_encrypted", sa.String(length=1024), nullable=True),
        sa.Column("mode", sa.String(length=8), nullable=True),
        sa.Column("payment_methods", sa.JSON(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        _tenant_fk("payment_providers"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_providers")),
        sa.UniqueConstraint("tenant_id", "provider", name=op.f("uq_payment_providers_tenant_id")),
    )
    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("provider_payment_id", sa.String(length=128), nullable=False),
        sa.Column("order_id", sa.String(length=128), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("amount_captured_minor", sa.BigInteger(), nullable=False),
        sa.Column("amount_refunded_minor", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("provider_status", sa.String(length=64), nullable=False),
        sa.Column("failure_code", sa.String(length=64), nullable=True),
        sa.Column("latest_charge_id", sa.String(length=128), nullable=True),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        *_stamps(),
        _tenant_fk("payments"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint(
            "tenant_id", "provider", "provider_payment_id", name=op.f("uq_payments_tenant_id")
        ),
        sa.UniqueConstraint("tenant_id", "idempotency_key", name="uq_payments_idempotency_key"),
    )
    op.create_index("ix_payments_tenant_id_order_id", "payments", ["tenant_id", "order_id"])
    op.create_index("ix_payments_tenant_id_created_at", "payments", ["tenant_id", "created_at"])
    op.create_table(
        "payment_refunds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("provider_refund_id", sa.String(length=128), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.Column("failure_reason", sa.String(length=64), nullable=True),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        *_stamps(),
        _tenant_fk("payment_refunds"),
        _payment_fk("payment_refunds"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_refunds")),
        sa.UniqueConstraint(
            "tenant_id", "provider_refund_id", name=op.f("uq_payment_refunds_tenant_id")
        ),
        sa.UniqueConstraint(
            "payment_id", "idempotency_key", name=op.f("uq_payment_refunds_payment_id")
        ),
        sa.UniqueConstraint("reference", name=op.f("uq_payment_refunds_reference")),
    )
    op.create_index(op.f("ix_payment_refunds_payment_id"), "payment_refunds", ["payment_id"])
    op.create_table(
        "payment_disputes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=False),
        sa.Column("provider_dispute_id", sa.String(length=128), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=True),
        *_stamps(),
        _tenant_fk("payment_disputes"),
        _payment_fk("payment_disputes"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_disputes")),
        sa.UniqueConstraint(
            "tenant_id", "provider_dispute_id", name=op.f("uq_payment_disputes_tenant_id")
        ),
    )
    op.create_index(op.f("ix_payment_disputes_payment_id"), "payment_disputes", ["payment_id"])
    op.create_table(
        "payment_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=True),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("event_id", sa.String(length=128), nullable=True),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("object_id", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=64), nullable=True),
        sa.Column("amount_minor", sa.BigInteger(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("occurred_at", UTC, nullable=False),
        sa.Column("received_at", UTC, nullable=False),
        _tenant_fk("payment_events"),
        _payment_fk("payment_events"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_events")),
        sa.UniqueConstraint(
            "tenant_id", "provider", "event_id", name=op.f("uq_payment_events_tenant_id")
        ),
    )
    op.create_index(
        "ix_payment_events_payment_id_occurred_at", "payment_events", ["payment_id", "occurred_at"]
    )


def downgrade() -> None:
    op.drop_table("payment_events")
    op.drop_table("payment_disputes")
    op.drop_table("payment_refunds")
    op.drop_table("payments")
    op.drop_table("payment_providers")
