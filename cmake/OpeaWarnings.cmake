# opea_set_warnings(target): the warning policy for our own code.
# -Werror applies to our targets only, never to third-party headers (included as SYSTEM).
function(opea_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Wno-unused-parameter)
  # With -fsanitize=address,undefined GCC 12 inlines differently and reports
  # -Wmaybe-uninitialized false positives inside headers we do not own:
  # std::regex's _StateT (a std::function member of a union, bits/std_function.h)
  # and Beast's basic_parser returning boost::none (boost::optional's storage).
  # The warnings point at those headers, not at our code, and the same code
  # compiles clean without sanitizers (where the warning stays an error), so
  # only the sanitizer build turns this one warning off.
  if(OPEA_SANITIZE AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(${target} PRIVATE -Wno-maybe-uninitialized)
  endif()
endfunction()

# opea_add_library(name alias SOURCES...): one library per module, sources globbed
# from the module folder so that adding a file needs no CMake edit.
# opea_module_library(target alias [EXCLUDE dir...]): a static library of
# every .cpp under the current folder except those under the EXCLUDE folders
# (relative, each their own library).
function(opea_module_library target alias)
  cmake_parse_arguments(ARG "" "" "EXCLUDE" ${ARGN})
  file(GLOB_RECURSE _srcs CONFIGURE_DEPENDS
       "${CMAKE_CURRENT_SOURCE_DIR}/*.cpp")
  foreach(_dir ${ARG_EXCLUDE})
    list(FILTER _srcs EXCLUDE REGEX "^${CMAKE_CURRENT_SOURCE_DIR}/${_dir}/")
  endforeach()
  add_library(${target} STATIC ${_srcs})
  add_library(${alias} ALIAS ${target})
  target_include_directories(${target} PUBLIC "${PROJECT_SOURCE_DIR}")
  opea_set_warnings(${target})
endfunction()
