# cmake -D MAE_BUILD_DIR=... -D MAE_TARGET=... [-D MAE_CONFIG=...] -D MAE_EXPECT_FILE=... -P <this>
# Passes when building MAE_TARGET fails and the output matches every regex in MAE_EXPECT_FILE.
include("${MAE_EXPECT_FILE}")  # sets MAE_EXPECT_REGEXES

set(config_args)
if(MAE_CONFIG)
  set(config_args --config "${MAE_CONFIG}")
endif()
execute_process(
  COMMAND "${CMAKE_COMMAND}" -E env LC_ALL=C
          "${CMAKE_COMMAND}" --build "${MAE_BUILD_DIR}" --target "${MAE_TARGET}" ${config_args}
  RESULT_VARIABLE result
  OUTPUT_VARIABLE output
  ERROR_VARIABLE output)
string(ASCII 27 esc)
string(REGEX REPLACE "${esc}\\[[0-9;]*[mK]" "" output "${output}")  # drop colour codes

# NOTICE prints the build output verbatim; FATAL_ERROR would re-wrap it.
if(result EQUAL 0)
  message(NOTICE "${output}")
  message(FATAL_ERROR "${MAE_TARGET} compiled, but it must not compile")
endif()
set(missing)
foreach(regex IN LISTS MAE_EXPECT_REGEXES)
  if(NOT output MATCHES "${regex}")
    string(APPEND missing "  ${regex}\n")
  endif()
endforeach()
if(missing)
  message(NOTICE "${output}")
  message(FATAL_ERROR "${MAE_TARGET} failed to compile, but the output above lacks:\n${missing}")
endif()
list(LENGTH MAE_EXPECT_REGEXES count)
message(STATUS "${MAE_TARGET} failed to compile as required; all ${count} expected patterns found")
