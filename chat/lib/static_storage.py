"""Static files once collected: hashed names, compressed copies, and the ES modules' imports rewritten."""

from __future__ import annotations

from whitenoise.storage import CompressedManifestStaticFilesStorage


class ModuleManifestStaticFilesStorage(CompressedManifestStaticFilesStorage):
    """The chat page's scripts import each other ("./util.js"): those imports must name the hashed
    files too, or a browser would load the unhashed, long-cached ones. Django rewrites them only
    when this is on (off by default). Its patterns are loose: the word import or export followed by a
    space, in a comment above a module's imports, starts a match that runs to the first `from "./…";`
    (an "export" one then fails collectstatic), so the modules' header comments avoid those words."""

    support_js_module_import_aggregation = True
