include(Catch)

# opea_add_test(name SOURCES... LIBS... [LABEL unit|integration] [TIMEOUT s]):
# one Catch2 binary per module; every TEST_CASE becomes its own CTest entry
# with a timeout and the CTest label LABEL (default unit); test cases tagged
# [cluster] also get the label `cluster` (`ctest -L cluster`).
function(opea_add_test name)
  cmake_parse_arguments(T "" "TIMEOUT;LABEL" "SOURCES;LIBS" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 60)
  endif()
  if(NOT T_LABEL)
    set(T_LABEL unit)
  endif()
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE Catch2::Catch2WithMain ${T_LIBS})
  target_include_directories(${name} PRIVATE "${PROJECT_SOURCE_DIR}")
  opea_set_warnings(${name})
  # Catch2 v2 cannot turn tags into labels, and its PROPERTIES cannot carry a
  # list: test cases tagged [cluster] are discovered on their own, into a
  # list that a script of ours, run by CTest after the discovered ones,
  # labels "${T_LABEL};cluster".
  catch_discover_tests(${name}
    TEST_SPEC "~[cluster]"
    TEST_PREFIX "${name}:"
    PROPERTIES TIMEOUT ${T_TIMEOUT} LABELS ${T_LABEL}
    EXTRA_ARGS --use-colour no)
  catch_discover_tests(${name}
    TEST_SPEC "[cluster]"
    TEST_PREFIX "${name}:"
    TEST_LIST ${name}_cluster_tests
    PROPERTIES TIMEOUT ${T_TIMEOUT}
    EXTRA_ARGS --use-colour no)
  set(labels "${CMAKE_CURRENT_BINARY_DIR}/${name}_cluster_labels.cmake")
  file(WRITE "${labels}"
       "foreach(t IN LISTS ${name}_cluster_tests)\n"
       "  set_tests_properties(\"\${t}\" PROPERTIES LABELS \"${T_LABEL};cluster\")\n"
       "endforeach()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${labels}")
endfunction()
