# Writes OUTPUT, a C++ file defining coffer::admin::assets(): every file of
# ASSETS_DIR as a byte array with its URL path and content type, so that the
# panel serves them from the binary (nothing is read or fetched at run time).
file(GLOB files RELATIVE ${ASSETS_DIR} ${ASSETS_DIR}/*)
list(SORT files)
set(arrays "")
set(entries "")
set(index 0)
foreach(name IN LISTS files)
  file(READ ${ASSETS_DIR}/${name} hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" bytes "${bytes}")
  get_filename_component(extension ${name} LAST_EXT)
  if(extension STREQUAL ".html")
    set(type "text/html; charset=utf-8")
  elseif(extension STREQUAL ".js")
    set(type "text/javascript; charset=utf-8")
  elseif(extension STREQUAL ".css")
    set(type "text/css; charset=utf-8")
  elseif(extension STREQUAL ".svg")
    set(type "image/svg+xml")
  else()
    message(FATAL_ERROR "admin asset ${name}: no content type for '${extension}'")
  endif()
  string(APPEND arrays "const unsigned char asset_${index}[] = {\n${bytes}};\n")
  string(APPEND entries "      {\"/${name}\", \"${type}\", {asset_${index}, sizeof asset_${index}}},\n")
  math(EXPR index "${index} + 1")
endforeach()
file(WRITE ${OUTPUT}.tmp "// Generated from ${ASSETS_DIR} by embed_assets.cmake; do not edit.
#include \"assets.hpp\"

namespace coffer::admin {
namespace {
${arrays}}  // namespace

std::span<const Asset> assets() noexcept {
  static const Asset list[] = {
${entries}  };
  return list;
}

}  // namespace coffer::admin
")
file(COPY_FILE ${OUTPUT}.tmp ${OUTPUT} ONLY_IF_DIFFERENT)
file(REMOVE ${OUTPUT}.tmp)
