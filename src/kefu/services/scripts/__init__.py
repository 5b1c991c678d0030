"""The reply-script library: scenarios and scripts (library), versions and review, YAML import
and export, the starter library, placeholder values, suggestions, macros and use records."""
