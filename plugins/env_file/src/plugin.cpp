// The env_file plugin's one exported symbol.
#include "env_file_provider.hpp"

COFFER_PROVIDER(coffer::env_file::EnvFileProvider, "env_file", COFFER_ENV_FILE_VERSION,
                "dotenv files (Docker Compose syntax) and the process environment")
