// The azure_keyvault plugin's one exported symbol.
#include "azure_keyvault_provider.hpp"

COFFER_PROVIDER(coffer::azure::KeyVaultProvider, "azure_keyvault", "0.1.0",
                "Azure Key Vault secrets over HTTPS; workload identity, managed identity or "
                "client secret")
