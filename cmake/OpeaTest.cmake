include(Catch)

# opea_add_test(name SOURCES... LIBS...): one Catch2 binary per module; every
# TEST_CASE becomes its own CTest entry with a timeout.
function(opea_add_test name)
  cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LIBS" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 60)
  endif()
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE Catch2::Catch2WithMain ${T_LIBS})
  target_include_directories(${name} PRIVATE "${PROJECT_SOURCE_DIR}")
  opea_set_warnings(${name})
  catch_discover_tests(${name}
    TEST_PREFIX "${name}:"
    PROPERTIES TIMEOUT ${T_TIMEOUT}
    EXTRA_ARGS --use-colour no)
endfunction()
