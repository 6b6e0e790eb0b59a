# Run by ctest (a TEST_INCLUDE_FILES script; see vixy_suite_tests in CMakeLists.txt): one CTest
# entry per GoogleTest suite of a program instead of one per test. Each entry is a process, and
# under the sanitizers starting one costs about 0.4 s, more than most unit tests take; a suite per
# process keeps `ctest -R Suite` and the test names in the output while starting a seventh as many.
# Inputs: SUITES_BIN, SUITES_TIMEOUT, SUITES_LABEL.
if(NOT EXISTS "${SUITES_BIN}")
  add_test("${SUITES_BIN}_NOT_BUILT" "${SUITES_BIN}_NOT_BUILT")
  return()
endif()
execute_process(COMMAND "${SUITES_BIN}" --gtest_list_tests
                OUTPUT_VARIABLE listing ERROR_VARIABLE listing RESULT_VARIABLE status TIMEOUT 30)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "${SUITES_BIN} --gtest_list_tests failed (${status}):\n${listing}")
endif()
string(REPLACE "\n" ";" lines "${listing}")
set(suites 0)
foreach(line IN LISTS lines)
  # Suite lines start in the first column and end in a dot (typed suites add a "# TypeParam" note).
  if(line MATCHES "^([A-Za-z0-9_/]+)\\.( |$)")
    set(suite "${CMAKE_MATCH_1}")
    add_test("${suite}.*" "${SUITES_BIN}" "--gtest_filter=${suite}.*")
    set_tests_properties("${suite}.*" PROPERTIES TIMEOUT "${SUITES_TIMEOUT}" LABELS "${SUITES_LABEL}")
    math(EXPR suites "${suites} + 1")
  endif()
endforeach()
if(suites EQUAL 0)
  message(FATAL_ERROR "${SUITES_BIN} lists no test suite:\n${listing}")
endif()
