"""inventory levels with versions, stock changes to land; last prices and price anomalies

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

import warehouse.controldb.models

revision = "0005"
down_revision = "0004"
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


def upgrade() -> None:
    op.create_table(
        "inventory_levels",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.String(length=128), nullable=False),
        sa.Column("variant_id", sa.String(length=128), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        _tenant_fk("inventory_levels"),
        sa.PrimaryKeyConstraint(
            "tenant_id", "product_id", "variant_id", name=op.f("pk_inventory_levels")
        ),
    )
    op.create_table(
        "inventory_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("request_key", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("product_id", sa.String(length=128), nullable=False),
        sa.Column("variant_id", sa.String(length=128), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("level", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("occurred_at", UTC, nullable=False),
        sa.Column("landed_at", UTC, nullable=True),
        _tenant_fk("inventory_changes"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_changes")),
        sa.UniqueConstraint(
            "tenant_id",
            "product_id",
            "variant_id",
            "version",
            name=op.f("uq_inventory_changes_tenant_id"),
        ),
    )
    op.create_index(
        "ix_inventory_changes_request", "inventory_changes", ["tenant_id", "request_key"]
    )
    op.create_index("ix_inventory_changes_landing", "inventory_changes", ["tenant_id", "landed_at"])
    op.create_table(
        "price_points",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.String(length=128), nullable=False),
        sa.Column("variant_id", sa.String(length=128), nullable=False),
        sa.Column("price_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column("occurred_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        _tenant_fk("price_points"),
        sa.PrimaryKeyConstraint(
            "tenant_id", "product_id", "variant_id", name=op.f("pk_price_points")
        ),
    )
    op.create_table(
        "price_anomalies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.String(length=128), nullable=False),
        sa.Column("variant_id", sa.String(length=128), nullable=False),
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("previous_price_minor", sa.BigInteger(), nullable=False),
        sa.Column("previous_currency", sa.String(length=3), nullable=False),
        sa.Column("previous_source", sa.String(length=16), nullable=False),
        sa.Column("price_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("change_pct", sa.Float(), nullable=True),
        sa.Column("threshold_pct", sa.Float(), nullable=False),
        sa.Column("occurred_at", UTC, nullable=False),
        sa.Column("detected_at", UTC, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reviewed_at", UTC, nullable=True),
        sa.Column("reviewed_by", sa.String(length=64), nullable=True),
        sa.Column("note", sa.String(length=1000), nullable=False),
        _tenant_fk("price_anomalies"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_price_anomalies")),
        sa.UniqueConstraint("tenant_id", "event_id", name=op.f("uq_price_anomalies_tenant_id")),
    )
    op.create_index(
        "ix_price_anomalies_product",
        "price_anomalies",
        ["tenant_id", "product_id", "detected_at"],
    )


def downgrade() -> None:
    op.drop_table("price_anomalies")
    op.drop_table("price_points")
    op.drop_table("inventory_changes")
    op.drop_table("inventory_levels")
