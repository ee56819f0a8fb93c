"""media: product images and generic background jobs

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

import warehouse.controldb.models

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UTC = warehouse.controldb.models.UTCDateTime(timezone=True)


def _tenant_fk(table: str) -> sa.ForeignKeyConstraint:
    name = op.f(f"fk_{table}_tenant_id_tenants")
    return sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE", name=name)


def upgrade() -> None:
    op.create_table(
        "product_images",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.String(length=128), nullable=False),
        sa.Column("checksum", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.Column("renditions", sa.JSON(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        _tenant_fk("product_images"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_images")),
        sa.UniqueConstraint(
            "tenant_id", "product_id", "checksum", name=op.f("uq_product_images_tenant_id")
        ),
    )
    op.create_index(
        "ix_product_images_product", "product_images", ["tenant_id", "product_id", "position"]
    )
    op.create_index(
        "uq_product_images_primary",
        "product_images",
        ["tenant_id", "product_id"],
        unique=True,
        sqlite_where=sa.text("is_primary"),
        postgresql_where=sa.text("is_primary"),
    )
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", sa.String(length=2000), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("started_at", UTC, nullable=True),
        sa.Column("heartbeat_at", UTC, nullable=True),
        sa.Column("finished_at", UTC, nullable=True),
        _tenant_fk("jobs"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    op.create_index("ix_jobs_tenant", "jobs", ["tenant_id", "created_at"])
    op.create_index("ix_jobs_claim", "jobs", ["status", "created_at"])


def downgrade() -> None:
    op.drop_table("jobs")
    op.drop_table("product_images")
