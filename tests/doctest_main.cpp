// The one doctest implementation TU, linked into every test binary.
// DOCTEST_CONFIG_IMPLEMENT is set explicitly: if a precompiled header already included doctest.h,
// DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN alone would no longer switch the implementation on.
#define DOCTEST_CONFIG_IMPLEMENT
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
