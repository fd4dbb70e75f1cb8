// Thrust backend vs CPU backend: token gather/scatter, patches and losses, forward and backward, plus the
// error inputs (bad indices and labels, an all-zero mask) raising mae::error.
#include <numeric>

#include "support.hpp"

using namespace mae;
using namespace mae::test;

TEST_CASE_TEMPLATE("gather and scatter of tokens equal the CPU backend's", T, float, double) {
  const std::size_t b = 3, nin = 11, nout = 7, d = 5;
  const auto x = random_vector<T>(b * nin * d, 1), dy = random_vector<T>(b * nout * d, 2);
  std::vector<std::int32_t> idx(b * nout);
  for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = static_cast<std::int32_t>((i * 5 + 3) % nin);
  idx[1] = idx[2] = 4;  // a repeated index: the scatter must add both rows
  std::vector<T> yc(b * nout * d), yt(yc.size());
  CK::gather_tokens(x.data(), idx.data(), yc.data(), b, nin, nout, d);
  TK::gather_tokens(x.data(), idx.data(), yt.data(), b, nin, nout, d);
  CHECK(yt == yc);
  auto dxc = random_vector<T>(x.size(), 3), dxt = dxc;
  CK::scatter_add_tokens(dy.data(), idx.data(), dxc.data(), b, nin, nout, d);
  TK::scatter_add_tokens(dy.data(), idx.data(), dxt.data(), b, nin, nout, d);
  CHECK_CLOSE_TO_CPU("scatter_add_tokens", dxt, dxc);

  idx[9] = static_cast<std::int32_t>(nin);
  CHECK_THROWS_WITH_AS(TK::gather_tokens(x.data(), idx.data(), yt.data(), b, nin, nout, d),
                       "gather_tokens: index 11 at (batch 1, position 2) is outside [0, 11)", mae::error);
  idx[9] = -1;
  CHECK_THROWS_AS(TK::scatter_add_tokens(dy.data(), idx.data(), dxt.data(), b, nin, nout, d), mae::error);
}

TEST_CASE_TEMPLATE("patchify, unpatchify and conv-order patches equal the CPU backend's", T, float, double) {
  const std::size_t b = 2, c = 3, h = 12, w = 8, p = 4, n = b * c * h * w;
  const auto img = random_vector<T>(n, 1);
  std::vector<T> pc(n), pt(n), ic(n), it(n);
  CK::patchify(img.data(), pc.data(), b, c, h, w, p);
  TK::patchify(img.data(), pt.data(), b, c, h, w, p);
  CHECK(pt == pc);
  TK::unpatchify(pt.data(), it.data(), b, c, h, w, p);
  CHECK(it == img);
  CK::patchify_conv(img.data(), pc.data(), b, c, h, w, p);
  TK::patchify_conv(img.data(), pt.data(), b, c, h, w, p);
  CHECK(pt == pc);
  CHECK_THROWS_AS(TK::patchify(img.data(), pt.data(), b, c, h, w, std::size_t(5)), mae::error);
}

TEST_CASE_TEMPLATE("masked MSE (norm_pix on and off) equals the CPU backend's", T, float, double) {
  const std::size_t b = 4, l = 49, p = 48, n = b * l * p;
  const auto pred = random_vector<T>(n, 1), target = random_vector<T>(n, 2, -3.0, 5.0);
  std::vector<T> mask(b * l);
  for (std::size_t i = 0; i < mask.size(); ++i) mask[i] = T(i % 4 != 0);
  for (bool norm_pix : {true, false}) {
    INFO("norm_pix " << norm_pix);
    std::vector<T> tnc(n), tnt(n), lc(1), lt(1);
    CK::masked_mse_forward(pred.data(), target.data(), mask.data(), tnc.data(), lc.data(), b, l, p, norm_pix, T(1e-6));
    TK::masked_mse_forward(pred.data(), target.data(), mask.data(), tnt.data(), lt.data(), b, l, p, norm_pix, T(1e-6));
    CHECK_CLOSE_TO_CPU("target_norm", tnt, tnc);
    CHECK_CLOSE_TO_CPU("loss", lt, lc);
    const T dloss[1] = {T(0.7)};
    auto dc = random_vector<T>(n, 3), dt = dc;
    CK::masked_mse_backward(pred.data(), tnc.data(), mask.data(), dloss, dc.data(), b, l, p);
    TK::masked_mse_backward(pred.data(), tnc.data(), mask.data(), dloss, dt.data(), b, l, p);
    CHECK_CLOSE_TO_CPU("dpred", dt, dc);
  }
  std::vector<T> zeros(b * l, T(0)), tn(n), loss(1);
  CHECK_THROWS_AS(TK::masked_mse_forward(pred.data(), target.data(), zeros.data(), tn.data(), loss.data(), b, l, p, true,
                                         T(1e-6)),
                  mae::error);
}

TEST_CASE_TEMPLATE("L1 and cross-entropy equal the CPU backend's", T, float, double) {
  const std::size_t rows = 53, p = 12, classes = 10;
  const auto pred = random_vector<T>(rows * p, 1), target = random_vector<T>(rows * p, 2);
  std::vector<T> mask(rows);
  for (std::size_t r = 0; r < rows; ++r) mask[r] = T(r % 3 == 0);
  const T dloss[1] = {T(1.3)};
  for (const T* m : {static_cast<const T*>(mask.data()), static_cast<const T*>(nullptr)}) {
    INFO("mask " << (m ? "given" : "null"));
    std::vector<T> lc(1), lt(1);
    CK::l1_forward(pred.data(), target.data(), m, lc.data(), rows, p);
    TK::l1_forward(pred.data(), target.data(), m, lt.data(), rows, p);
    CHECK_CLOSE_TO_CPU("l1 loss", lt, lc);
    auto dc = random_vector<T>(rows * p, 3), dt = dc;
    CK::l1_backward(pred.data(), target.data(), m, dloss, dc.data(), rows, p);
    TK::l1_backward(pred.data(), target.data(), m, dloss, dt.data(), rows, p);
    CHECK_CLOSE_TO_CPU("l1 dpred", dt, dc);
  }

  const auto logits = random_vector<T>(rows * classes, 4, -5.0, 5.0);
  std::vector<std::int32_t> labels(rows);
  for (std::size_t r = 0; r < rows; ++r) labels[r] = static_cast<std::int32_t>((r * 7) % classes);
  std::vector<T> pc(rows * classes), pt(pc.size()), lc(1), lt(1);
  CK::cross_entropy_forward(logits.data(), labels.data(), pc.data(), lc.data(), rows, classes);
  TK::cross_entropy_forward(logits.data(), labels.data(), pt.data(), lt.data(), rows, classes);
  CHECK_CLOSE_TO_CPU("cross-entropy probs", pt, pc);
  CHECK_CLOSE_TO_CPU("cross-entropy loss", lt, lc);
  auto dc = random_vector<T>(rows * classes, 5), dt = dc;
  CK::cross_entropy_backward(pc.data(), labels.data(), dloss, dc.data(), rows, classes);
  TK::cross_entropy_backward(pc.data(), labels.data(), dloss, dt.data(), rows, classes);
  CHECK_CLOSE_TO_CPU("cross-entropy dlogits", dt, dc);

  labels[17] = static_cast<std::int32_t>(classes);
  CHECK_THROWS_AS(TK::cross_entropy_forward(logits.data(), labels.data(), pt.data(), lt.data(), rows, classes),
                  mae::error);
}
