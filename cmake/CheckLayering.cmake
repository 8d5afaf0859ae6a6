# Fails when a source file includes a header of a layer above its own
# (DESIGN.md: arrows point down only). Run by CTest (tests/CMakeLists.txt):
#   cmake -DSOURCE_DIR=<repo> -P cmake/CheckLayering.cmake
#
# The layers, lowest first; a folder prefix belongs to the first layer whose
# pattern it matches:
#   monitoring/            metrics and logs
#   runtime/ but http/     the orchestration core (graphs, megaservices, call path)
#   runtime/http/          the HTTP edge and adapters (opea::http)
#   actors/                the built-in microservices
#   nodes/                 opea-node: config, gateway, applications, cluster
#   tests/ bench/ examples/  never included by the libraries
cmake_policy(SET CMP0007 NEW)

if(NOT SOURCE_DIR)
  message(FATAL_ERROR "CheckLayering.cmake: pass -DSOURCE_DIR=<repository root>")
endif()

function(layer_of path out)
  if(path MATCHES "^monitoring/")
    set(${out} 1 PARENT_SCOPE)
  elseif(path MATCHES "^runtime/http/")
    set(${out} 3 PARENT_SCOPE)
  elseif(path MATCHES "^runtime/")
    set(${out} 2 PARENT_SCOPE)
  elseif(path MATCHES "^actors/")
    set(${out} 4 PARENT_SCOPE)
  elseif(path MATCHES "^nodes/")
    set(${out} 5 PARENT_SCOPE)
  elseif(path MATCHES "^(tests|bench|examples)/")
    set(${out} 6 PARENT_SCOPE)
  else()
    set(${out} 0 PARENT_SCOPE)
  endif()
endfunction()

set(names "other" "monitoring" "runtime" "runtime/http" "actors" "nodes" "tests, bench, examples")
file(GLOB_RECURSE files RELATIVE "${SOURCE_DIR}"
     "${SOURCE_DIR}/monitoring/*.[hc]pp" "${SOURCE_DIR}/runtime/*.[hc]pp"
     "${SOURCE_DIR}/actors/*.[hc]pp" "${SOURCE_DIR}/nodes/*.[hc]pp")
set(violations 0)
foreach(file ${files})
  layer_of("${file}" own)
  file(STRINGS "${SOURCE_DIR}/${file}" lines REGEX "^[ \t]*#[ \t]*include[ \t]+\"")
  foreach(line ${lines})
    string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]+\"([^\"]+)\".*$" "\\1" header "${line}")
    layer_of("${header}" theirs)
    if(theirs GREATER own)
      list(GET names ${own} own_name)
      list(GET names ${theirs} their_name)
      message("${file}: includes \"${header}\": ${own_name} may not include ${their_name} "
              "(layers point down only)")
      math(EXPR violations "${violations} + 1")
    endif()
  endforeach()
endforeach()
list(LENGTH files count)
if(violations GREATER 0)
  message(FATAL_ERROR "${violations} include(s) point up the layers")
endif()
message("layering: ${count} files, every include points down or sideways")
