// Zeroing the vector registers after a value was copied or wiped, and wiping
// memory: part of the provider SDK (header-only), used by the core as well.
#ifndef COFFER_VECTOR_REGISTERS_HPP
#define COFFER_VECTOR_REGISTERS_HPP

#include <string.h>  // explicit_bzero

#include <cstddef>

namespace coffer::provider {

// Zeroes the calling thread's vector registers. Copying or comparing a value
// leaves pieces of it in the SIMD registers that memcpy and the string
// functions use (glibc's AVX-512 variants use ymm16-31, which nothing else
// overwrites soon), and from there a register save puts them back into
// ordinary memory after the value was wiped: the dynamic linker's lazy
// binding saves every register on the stack, so does a signal frame, and a
// core dump holds each thread's registers. x86-64 only; elsewhere it does
// nothing (docs/security.md).
#if defined(__x86_64__)
namespace detail {
#define COFFER_XMM_0_15                                                                    \
  "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", \
      "xmm11", "xmm12", "xmm13", "xmm14", "xmm15"
__attribute__((target("avx512f"), noinline)) inline void clear_vector_registers_avx512() noexcept {
  // vzeroall zeroes zmm0-15 whole; a VEX/EVEX write to xmmN zeroes zmmN above it.
  asm volatile(
      "vzeroall\n\t"
      "vpxord %%xmm16, %%xmm16, %%xmm16\n\tvpxord %%xmm17, %%xmm17, %%xmm17\n\t"
      "vpxord %%xmm18, %%xmm18, %%xmm18\n\tvpxord %%xmm19, %%xmm19, %%xmm19\n\t"
      "vpxord %%xmm20, %%xmm20, %%xmm20\n\tvpxord %%xmm21, %%xmm21, %%xmm21\n\t"
      "vpxord %%xmm22, %%xmm22, %%xmm22\n\tvpxord %%xmm23, %%xmm23, %%xmm23\n\t"
      "vpxord %%xmm24, %%xmm24, %%xmm24\n\tvpxord %%xmm25, %%xmm25, %%xmm25\n\t"
      "vpxord %%xmm26, %%xmm26, %%xmm26\n\tvpxord %%xmm27, %%xmm27, %%xmm27\n\t"
      "vpxord %%xmm28, %%xmm28, %%xmm28\n\tvpxord %%xmm29, %%xmm29, %%xmm29\n\t"
      "vpxord %%xmm30, %%xmm30, %%xmm30\n\tvpxord %%xmm31, %%xmm31, %%xmm31" ::
          : COFFER_XMM_0_15, "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22", "xmm23",
            "xmm24", "xmm25", "xmm26", "xmm27", "xmm28", "xmm29", "xmm30", "xmm31");
}
__attribute__((target("avx"), noinline)) inline void clear_vector_registers_avx() noexcept {
  asm volatile("vzeroall" ::: COFFER_XMM_0_15);
}
__attribute__((noinline)) inline void clear_vector_registers_sse() noexcept {
  asm volatile(
      "pxor %%xmm0, %%xmm0\n\tpxor %%xmm1, %%xmm1\n\tpxor %%xmm2, %%xmm2\n\t"
      "pxor %%xmm3, %%xmm3\n\tpxor %%xmm4, %%xmm4\n\tpxor %%xmm5, %%xmm5\n\t"
      "pxor %%xmm6, %%xmm6\n\tpxor %%xmm7, %%xmm7\n\tpxor %%xmm8, %%xmm8\n\t"
      "pxor %%xmm9, %%xmm9\n\tpxor %%xmm10, %%xmm10\n\tpxor %%xmm11, %%xmm11\n\t"
      "pxor %%xmm12, %%xmm12\n\tpxor %%xmm13, %%xmm13\n\tpxor %%xmm14, %%xmm14\n\t"
      "pxor %%xmm15, %%xmm15" ::
          : COFFER_XMM_0_15);
}
#undef COFFER_XMM_0_15
enum class VectorRegisters { sse, avx, avx512 };
inline VectorRegisters vector_registers() noexcept {
  // The CPU and the kernel's register state decide; known once per process.
  static const VectorRegisters kind = [] {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return VectorRegisters::avx512;
    if (__builtin_cpu_supports("avx")) return VectorRegisters::avx;
    return VectorRegisters::sse;
  }();
  return kind;
}
}  // namespace detail

inline void clear_vector_registers() noexcept {
  switch (detail::vector_registers()) {
    case detail::VectorRegisters::avx512:
      detail::clear_vector_registers_avx512();
      break;
    case detail::VectorRegisters::avx:
      detail::clear_vector_registers_avx();
      break;
    case detail::VectorRegisters::sse:
      detail::clear_vector_registers_sse();
      break;
  }
}
#else
inline void clear_vector_registers() noexcept {}
#endif

// Overwrites memory in a way the compiler may not elide, and then the vector
// registers (see clear_vector_registers). explicit_bzero runs at memset's
// speed; a loop of volatile byte stores costs about five instructions a byte.
inline void wipe(void *data, std::size_t size) noexcept {
  if (data == nullptr || size == 0) return;
#if defined(__GLIBC__) || defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__linux__)
  explicit_bzero(data, size);
#else
  auto *volatile bytes = static_cast<volatile unsigned char *>(data);
  for (std::size_t i = 0; i < size; ++i) bytes[i] = 0;
  __asm__ __volatile__("" : : "r"(data) : "memory");
#endif
  clear_vector_registers();
}

}  // namespace coffer::provider

#endif  // COFFER_VECTOR_REGISTERS_HPP
