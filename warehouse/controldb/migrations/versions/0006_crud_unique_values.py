"""crud: per-tenant unique values (SKUs, emails) and per-record write locks

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

import warehouse.controldb.models

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

UTC = warehouse.controldb.models.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "unique_values",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=256), nullable=False),
        sa.Column("entity_id", sa.String(length=128), nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            ondelete="CASCADE",
            name=op.f("fk_unique_values_tenant_id_tenants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unique_values")),
        sa.UniqueConstraint("tenant_id", "kind", "value", name=op.f("uq_unique_values_tenant_id")),
    )
    op.create_index("ix_unique_values_holder", "unique_values", ["tenant_id", "kind", "entity_id"])


def downgrade() -> None:
    op.drop_index("ix_unique_values_holder", table_name="unique_values")
    op.drop_table("unique_values")
