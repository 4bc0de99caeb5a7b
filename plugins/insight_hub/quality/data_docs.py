"""Great Expectations Data Docs: every validated batch's result as a page of a static HTML site.

The site lives in a file-backed GX project under `<INSIGHT_HUB_HOME>/gx`; validation itself runs in
an ephemeral context, so no connection string is ever written there. Results reach this module with
every row value stripped (counts, percentages and observed aggregates only).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from insight_hub.quality.gx_runner import Validation, load_suite_dict


def site_index(root: Path) -> Path:
    return root / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"


class DataDocs:
    """Collects validation results, then renders their pages and the index once (rendering is the
    slow part, and the index grows with every batch ever validated)."""

    def __init__(self, root: Path):
        self.root = root
        self._context = None
        self._pending: list = []

    def _gx(self):
        if self._context is None:
            import great_expectations as gx

            self.root.mkdir(parents=True, exist_ok=True)
            self._context = gx.get_context(mode="file", project_root_dir=str(self.root))
        return self._context

    def add(self, suite_path: Path, validation: Validation, run_name: str) -> None:
        """Store `validation` as run `run_name`."""
        import great_expectations as gx
        from great_expectations.core.run_identifier import RunIdentifier
        from great_expectations.data_context.types.resource_identifiers import (
            ExpectationSuiteIdentifier,
            ValidationResultIdentifier,
        )

        context = self._gx()
        suite = context.suites.add_or_update(gx.ExpectationSuite(**load_suite_dict(suite_path)))
        result = validation.suite_result
        run_id = RunIdentifier(run_name=run_name, run_time=datetime.now(UTC))
        result.meta["run_id"] = run_id
        result.meta["validation_time"] = run_id.run_time
        suite_id = ExpectationSuiteIdentifier(name=suite.name)
        key = ValidationResultIdentifier(
            expectation_suite_identifier=suite_id, run_id=run_id, batch_identifier=run_name
        )
        context.validation_results_store.store_validation_results(result, key, suite_id)
        self._pending += [key, suite_id]

    def build(self) -> Path | None:
        """Render the pages of every result added since the last build, and the index."""
        if not self._pending:
            return None
        self._gx().build_data_docs(resource_identifiers=self._pending)
        self._pending = []
        return site_index(self.root)
