/* Defaults for every program of an ASan build; ASAN_OPTIONS still overrides.
 *
 * intercept_tls_get_addr=0: the __tls_get_addr interceptor of the sanitizer
 * runtimes in Debian 12 (clang 14, GCC 12) takes a dynamic TLS block whose
 * address is 16 bytes past a page boundary for one carrying glibc 2.19's
 * header, and reads the two words before it as that block's bounds. Since
 * glibc 2.25 there is no such header; a malloc'd block lands there by chance,
 * and LeakSanitizer's tracer then dies at exit ("Tracer caught signal 11")
 * after a test passed. Plugins with thread_local data are loaded with dlopen,
 * so their TLS is such a block. LLVM 17 fixed the heuristic. The cost: leak
 * checking does not treat dynamic TLS as roots, and every thread_local of
 * ours is destroyed or holds no heap pointer before the check runs.
 * Weak: a program with defaults of its own keeps them. */
const char *__asan_default_options(void);
__attribute__((weak)) const char *__asan_default_options(void) {
  return "intercept_tls_get_addr=0";
}
