"""Answers over one tenant's published marts: the SQL behind the analytics endpoints.

Each module holds parameterised queries, one function per answer, taking a
:class:`warehouse.marts.TenantMarts` (so only that tenant's partitions of one pinned snapshot
are read). Request values always travel as parameters; money stays in integer minor units.
"""
