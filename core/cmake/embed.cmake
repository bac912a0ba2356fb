# Writes OUTPUT, a C++ file defining coffer::detail::builtin_catalog_json(),
# which returns the text of INPUT.
file(READ ${INPUT} text)
string(LENGTH "${text}" length)
file(WRITE ${OUTPUT} "// Generated from ${INPUT}; do not edit.\n#include <string_view>\nnamespace coffer::detail {\nstd::string_view builtin_catalog_json() noexcept {\n  return R\"coffer_catalog(${text})coffer_catalog\";\n}\n}  // namespace coffer::detail\n")
