"""analytics: saved dashboard widgets per user and tenant

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

import warehouse.controldb.models

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

UTC = warehouse.controldb.models.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "dashboard_widgets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            ondelete="CASCADE",
            name=op.f("fk_dashboard_widgets_tenant_id_tenants"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            ondelete="CASCADE",
            name=op.f("fk_dashboard_widgets_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dashboard_widgets")),
    )
    op.create_index(
        "ix_dashboard_widgets_owner", "dashboard_widgets", ["tenant_id", "user_id", "position"]
    )


def downgrade() -> None:
    op.drop_index("ix_dashboard_widgets_owner", table_name="dashboard_widgets")
    op.drop_table("dashboard_widgets")
