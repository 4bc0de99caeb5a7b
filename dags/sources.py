"""Source Airflow DAGs: one per source system (contact centre, CRM, survey, sales).

Each loads its entities' landed files through write-audit-publish and updates
one Asset per entity, which schedules the transform DAG.
"""

from insight_hub.orchestration.assets import SOURCES
from insight_hub.orchestration.source_dag import build_source_dag

for source_name, entity_names in SOURCES.items():
    build_source_dag(source_name, entity_names)
