"""Production static files storage: whitenoise's compressed, hashed (manifest) files, with the
hashed names also written into the page's JavaScript module imports (`import … from "./x.js"`),
so a module and the modules it imports are cached forever and change together on a deploy."""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class ManifestStaticFilesStorage(CompressedManifestStaticFilesStorage):
    support_js_module_import_aggregation = True
