# mae_add_compile_fail_test(<name> <source> <regex>...)
#
# Registers the CTest test `compile_fail.<name>`, which builds <source> (an EXCLUDE_FROM_ALL object
# target linked with mae::mae) and passes only if the compilation FAILS and its output matches every
# <regex> (CMake regex syntax; no ';'). The build runs with LC_ALL=C, so g++ quotes with plain '...'.
set(_MAE_CHECK_COMPILE_FAIL_SCRIPT "${CMAKE_CURRENT_LIST_DIR}/maeCheckCompileFail.cmake")

function(mae_add_compile_fail_test name source)
  if(ARGC LESS 3)
    message(FATAL_ERROR "mae_add_compile_fail_test(${name}): give at least one regex the diagnostic must match")
  endif()
  set(target "compile_fail_${name}")
  add_library(${target} OBJECT EXCLUDE_FROM_ALL "${source}")
  target_link_libraries(${target} PRIVATE mae::mae mae_build_options)

  # The regexes travel in a file as bracket arguments: no quoting or escaping on the command line.
  set(expect_file "${CMAKE_CURRENT_BINARY_DIR}/${target}.expect.cmake")
  set(content "set(MAE_EXPECT_REGEXES)\n")
  foreach(regex IN LISTS ARGN)
    string(APPEND content "list(APPEND MAE_EXPECT_REGEXES [==[${regex}]==])\n")
  endforeach()
  file(WRITE "${expect_file}" "${content}")

  add_test(NAME compile_fail.${name}
    COMMAND "${CMAKE_COMMAND}"
      -D "MAE_BUILD_DIR=${CMAKE_BINARY_DIR}"
      -D "MAE_TARGET=${target}"
      -D "MAE_CONFIG=$<CONFIG>"
      -D "MAE_EXPECT_FILE=${expect_file}"
      -P "${_MAE_CHECK_COMPILE_FAIL_SCRIPT}")
  # Two builds in one build tree at once would corrupt the build tool's state files.
  set_tests_properties(compile_fail.${name} PROPERTIES RESOURCE_LOCK mae_build_tree LABELS compile_fail)
endfunction()
