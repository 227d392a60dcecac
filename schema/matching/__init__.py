"""Company matching: names parsed into parts, identity signals, pairwise decisions, clusters.

Written once here, beside the value parsers, for push and import alike; see docs/import.md.
"""

from schema.matching.company import CompanyName, parse_company_name
from schema.matching.match import (
    SAME_THRESHOLD,
    UNCERTAIN_THRESHOLD,
    BlockIndex,
    Clustering,
    CompanyRecord,
    Match,
    Profile,
    blocking_keys,
    candidate_pairs,
    cluster,
    compare,
    dedupe,
    profile,
    query_keys,
)

__all__ = [
    "SAME_THRESHOLD", "UNCERTAIN_THRESHOLD", "BlockIndex", "Clustering", "CompanyName",
    "CompanyRecord", "Match", "Profile", "blocking_keys", "candidate_pairs", "cluster",
    "compare", "dedupe", "parse_company_name", "profile", "query_keys",
]
