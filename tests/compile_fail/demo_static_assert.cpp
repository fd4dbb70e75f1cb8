// Demo (temporary): a static_assert with extents in the message must fail and be reported.
// EXPECT: static assertion failed: demo: extents 4 and 9 differ
// EXPECT: error:.*demo_static_assert\.cpp
#include <mae/mae.hpp>
template <int A, int B> struct same_extent { static_assert(A == B, "demo: extents 4 and 9 differ"); };
template struct same_extent<4, 9>;
