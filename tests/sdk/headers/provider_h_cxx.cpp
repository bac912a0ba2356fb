// provider.h must also be usable from C++ (inside extern "C") at the oldest
// standard a C++ plugin might use, with warnings as errors.
#include <coffer/provider.h>

extern "C" COFFER_PROVIDER_EXPORT const coffer_provider *coffer_provider_entry(
    uint32_t core_abi_version);

static const coffer_provider *(*const entry_type_check)(uint32_t) = &coffer_provider_entry;

int provider_h_cxx_uses();
int provider_h_cxx_uses() {
  coffer_provider_entry_fn entry = entry_type_check;
  return entry != 0 ? static_cast<int>(sizeof(coffer_provider)) : 0;
}
