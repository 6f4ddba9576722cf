# Runs a libFuzzer target for a bounded time, as a ctest test:
#   cmake -DFUZZER=bin -DCORPUS=dir -DREGRESSIONS=dir -DWORKDIR=dir [-DSECONDS=n] -P run_fuzzer.cmake
# First every kept regression input is replayed (a crash ever found stays a
# test), then the fuzzer explores from the seed corpus for SECONDS (default
# 30; RRVM_FUZZ_SECONDS overrides, longer runs by hand).  New crashes land in
# WORKDIR; copy them into REGRESSIONS to keep them.
if(DEFINED ENV{RRVM_FUZZ_SECONDS})
  set(SECONDS $ENV{RRVM_FUZZ_SECONDS})
elseif(NOT SECONDS)
  set(SECONDS 30)
endif()
file(MAKE_DIRECTORY ${WORKDIR}/corpus ${WORKDIR}/artifacts)
file(GLOB regressions ${REGRESSIONS}/*)
if(regressions)
  execute_process(COMMAND ${FUZZER} ${regressions} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "a kept regression input fails again (status ${rc})")
  endif()
endif()
file(GLOB seeds ${CORPUS}/*)
if(seeds)
  file(COPY ${seeds} DESTINATION ${WORKDIR}/corpus)
endif()
execute_process(
  COMMAND ${FUZZER} -max_total_time=${SECONDS} -timeout=10 -rss_limit_mb=2048
          -artifact_prefix=${WORKDIR}/artifacts/ ${WORKDIR}/corpus
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "fuzzer found a failure (status ${rc}); inputs in ${WORKDIR}/artifacts")
endif()
