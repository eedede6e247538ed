"""The framework every reseller console page uses: the access rule, htmx helpers, tables, CSV
exports, filters and the layout's context. It imports no feature app (see .importlinter): the
feature apps build on it, and pages composed from several apps live above them in partnercenter."""
