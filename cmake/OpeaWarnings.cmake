# opea_set_warnings(target): the warning policy for our own code.
# -Werror applies to our targets only, never to third-party headers (included as SYSTEM).
function(opea_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Wno-unused-parameter)
endfunction()

# opea_add_library(name alias SOURCES...): one library per module, sources globbed
# from the module folder so that adding a file needs no CMake edit.
function(opea_module_library target alias)
  file(GLOB_RECURSE _srcs CONFIGURE_DEPENDS
       "${CMAKE_CURRENT_SOURCE_DIR}/*.cpp")
  add_library(${target} STATIC ${_srcs})
  add_library(${alias} ALIAS ${target})
  target_include_directories(${target} PUBLIC "${PROJECT_SOURCE_DIR}")
  opea_set_warnings(${target})
endfunction()
