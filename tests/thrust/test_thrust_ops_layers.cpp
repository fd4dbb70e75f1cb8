// Thrust backend vs CPU backend: linear, LayerNorm, GELU, softmax and attention, forward and backward (the
// backward kernels accumulate: both start from the same non-zero gradients).
#include "support.hpp"

using namespace mae;
using namespace mae::test;

TEST_CASE_TEMPLATE("linear forward and backward equal the CPU backend's", T, float, double) {
  const std::size_t rows = 67, in = 45, out = 29;
  const auto x = random_vector<T>(rows * in, 1), w = random_vector<T>(out * in, 2), b = random_vector<T>(out, 3);
  const auto dy = random_vector<T>(rows * out, 4);
  for (bool bias : {true, false}) {
    std::vector<T> yc(rows * out, T(9)), yt(rows * out, T(9));
    CK::linear_forward(x.data(), w.data(), bias ? b.data() : nullptr, yc.data(), rows, in, out);
    TK::linear_forward(x.data(), w.data(), bias ? b.data() : nullptr, yt.data(), rows, in, out);
    CHECK_CLOSE_TO_CPU("linear_forward", yt, yc);
  }
  auto dxc = random_vector<T>(rows * in, 5), dwc = random_vector<T>(out * in, 6), dbc = random_vector<T>(out, 7);
  auto dxt = dxc, dwt = dwc, dbt = dbc;
  CK::linear_backward(x.data(), w.data(), dy.data(), dxc.data(), dwc.data(), dbc.data(), rows, in, out);
  TK::linear_backward(x.data(), w.data(), dy.data(), dxt.data(), dwt.data(), dbt.data(), rows, in, out);
  CHECK_CLOSE_TO_CPU("linear dx", dxt, dxc);
  CHECK_CLOSE_TO_CPU("linear dw", dwt, dwc);
  CHECK_CLOSE_TO_CPU("linear db", dbt, dbc);
  // Without dx and db (a first layer on data).
  CK::linear_backward(x.data(), w.data(), dy.data(), static_cast<T*>(nullptr), dwc.data(), static_cast<T*>(nullptr),
                      rows, in, out);
  TK::linear_backward(x.data(), w.data(), dy.data(), static_cast<T*>(nullptr), dwt.data(), static_cast<T*>(nullptr),
                      rows, in, out);
  CHECK_CLOSE_TO_CPU("linear dw (no dx, db)", dwt, dwc);
}

TEST_CASE_TEMPLATE("layernorm forward and backward equal the CPU backend's", T, float, double) {
  const std::size_t rows = 261, cols = 83;  // rows > 2 chunks of the column reduction
  const auto x = random_vector<T>(rows * cols, 1, -2.0, 3.0), w = random_vector<T>(cols, 2);
  const auto b = random_vector<T>(cols, 3), dy = random_vector<T>(rows * cols, 4);
  std::vector<T> yc(rows * cols), yt(rows * cols), mc(rows), mt(rows), rc(rows), rt(rows);
  CK::layernorm_forward(x.data(), w.data(), b.data(), yc.data(), mc.data(), rc.data(), rows, cols, T(1e-6));
  TK::layernorm_forward(x.data(), w.data(), b.data(), yt.data(), mt.data(), rt.data(), rows, cols, T(1e-6));
  CHECK_CLOSE_TO_CPU("layernorm y", yt, yc);
  CHECK_CLOSE_TO_CPU("layernorm mean", mt, mc);
  CHECK_CLOSE_TO_CPU("layernorm rstd", rt, rc);

  auto dxc = random_vector<T>(rows * cols, 5), dwc = random_vector<T>(cols, 6), dbc = random_vector<T>(cols, 7);
  auto dxt = dxc, dwt = dwc, dbt = dbc;
  CK::layernorm_backward(x.data(), w.data(), mc.data(), rc.data(), dy.data(), dxc.data(), dwc.data(), dbc.data(), rows,
                         cols);
  TK::layernorm_backward(x.data(), w.data(), mc.data(), rc.data(), dy.data(), dxt.data(), dwt.data(), dbt.data(), rows,
                         cols);
  CHECK_CLOSE_TO_CPU("layernorm dx", dxt, dxc);
  CHECK_CLOSE_TO_CPU("layernorm dw", dwt, dwc);
  CHECK_CLOSE_TO_CPU("layernorm db", dbt, dbc);
}

TEST_CASE_TEMPLATE("gelu and softmax equal the CPU backend's", T, float, double) {
  const std::size_t rows = 41, cols = 197, n = rows * cols;
  const auto x = random_vector<T>(n, 1, -6.0, 6.0), dy = random_vector<T>(n, 2);
  std::vector<T> yc(n), yt(n);
  CK::gelu_forward(x.data(), yc.data(), n);
  TK::gelu_forward(x.data(), yt.data(), n);
  CHECK_CLOSE_TO_CPU("gelu y", yt, yc);
  auto dxc = random_vector<T>(n, 3), dxt = dxc;
  CK::gelu_backward(x.data(), dy.data(), dxc.data(), n);
  TK::gelu_backward(x.data(), dy.data(), dxt.data(), n);
  CHECK_CLOSE_TO_CPU("gelu dx", dxt, dxc);

  CK::softmax_forward(x.data(), yc.data(), rows, cols);
  TK::softmax_forward(x.data(), yt.data(), rows, cols);
  CHECK_CLOSE_TO_CPU("softmax y", yt, yc);
  auto in_place = x;
  TK::softmax_forward(in_place.data(), in_place.data(), rows, cols);
  CHECK_CLOSE_TO_CPU("softmax y in place", in_place, yc);
  CK::softmax_backward(yc.data(), dy.data(), dxc.data(), rows, cols);
  TK::softmax_backward(yc.data(), dy.data(), dxt.data(), rows, cols);
  CHECK_CLOSE_TO_CPU("softmax dx", dxt, dxc);
}

TEST_CASE_TEMPLATE("attention forward and backward equal the CPU backend's", T, float, double) {
  // (batch, tokens, heads, head dim): fewer samples than heads and more, so both GEMM loop orders run.
  struct Case { std::size_t b, n, h, hd; };
  for (Case c : {Case{2, 17, 4, 8}, Case{5, 10, 2, 16}, Case{1, 1, 1, 4}}) {
    INFO("B " << c.b << " N " << c.n << " H " << c.h << " hd " << c.hd);
    const std::size_t D = c.h * c.hd;
    const auto qkv = random_vector<T>(c.b * c.n * 3 * D, 1, -2.0, 2.0), dout = random_vector<T>(c.b * c.n * D, 2);
    std::vector<T> oc(c.b * c.n * D), ot(oc.size()), pc(c.b * c.h * c.n * c.n), pt(pc.size());
    CK::attention_forward(qkv.data(), oc.data(), pc.data(), c.b, c.n, c.h, c.hd);
    TK::attention_forward(qkv.data(), ot.data(), pt.data(), c.b, c.n, c.h, c.hd);
    CHECK_CLOSE_TO_CPU("attention out", ot, oc);
    CHECK_CLOSE_TO_CPU("attention probs", pt, pc);

    auto dc = random_vector<T>(qkv.size(), 3), dt = dc;
    std::vector<T> sc(CK::attention_scratch_elems(c.b, c.n, c.h, c.hd));
    std::vector<T> st(TK::attention_scratch_elems(c.b, c.n, c.h, c.hd));
    CK::attention_backward(qkv.data(), pc.data(), dout.data(), dc.data(), c.b, c.n, c.h, c.hd, sc.data());
    TK::attention_backward(qkv.data(), pc.data(), dout.data(), dt.data(), c.b, c.n, c.h, c.hd, st.data());
    CHECK_CLOSE_TO_CPU("attention dqkv", dt, dc);
  }
}
