// CUDA backend vs CPU backend, kernel by kernel on random FP32 inputs: forward and backward (backward kernels
// accumulate into the same non-zero gradients on both), masking bit for bit, and typed errors for bad inputs.
#include "cuda_support.hpp"

using namespace mae;
using namespace mae::test;

TEST_CASE("memory, element-wise and broadcast kernels") {
  const std::size_t outer = 301, inner = 37, n = outer * inner;
  const auto x = random_vector<float>(n, 1), row = random_vector<float>(inner, 2), y0 = random_vector<float>(n, 3);
  device_buffer<float> dx(x), drow(row);

  device_buffer<float> a(n);
  GK::copy(dx.data(), a.data(), n);
  CHECK(a.host() == x);
  GK::zero(a.data(), n);
  CHECK(a.host() == std::vector<float>(n, 0.f));
  GK::fill(a.data(), n, 2.5f);
  CHECK(a.host() == std::vector<float>(n, 2.5f));
  CHECK(GK::read_scalar(dx.data() + 5) == double(x[5]));
  CHECK(GK::all_finite(dx.data(), n));
  auto bad = x;
  bad[n / 2] = std::nanf("");
  device_buffer<float> dbad(bad);
  CHECK_FALSE(GK::all_finite(dbad.data(), n));

  std::vector<float> cblk(200, -1.f);
  device_buffer<float> gblk(cblk);
  CK::copy_blocks(x.data(), 20, cblk.data(), 17, 13, 7);
  GK::copy_blocks(dx.data(), 20, gblk.data(), 17, 13, 7);
  CK::accumulate_blocks(x.data() + 5, 31, cblk.data(), 19, 11, 9);
  GK::accumulate_blocks(dx.data() + 5, 31, gblk.data(), 19, 11, 9);
  CHECK_CLOSE_TO_CPU("copy/accumulate blocks", gblk, cblk);

  auto check = [&](const char* what, auto cpu, auto gpu) {
    auto c = y0;
    device_buffer<float> g(y0);
    cpu(c.data());
    gpu(g.data());
    CHECK_CLOSE_TO_CPU(what, g, c);
  };
  check("accumulate", [&](float* y) { CK::accumulate(y, x.data(), n); }, [&](float* y) { GK::accumulate(y, dx.data(), n); });
  check("axpy", [&](float* y) { CK::axpy(-0.75f, x.data(), y, n); }, [&](float* y) { GK::axpy(-0.75f, dx.data(), y, n); });
  check("add_rowvec", [&](float* y) { CK::add_rowvec(x.data(), row.data(), y, outer, inner); },
        [&](float* y) { GK::add_rowvec(dx.data(), drow.data(), y, outer, inner); });
  check("sub_rowvec", [&](float* y) { CK::sub_rowvec(x.data(), row.data(), y, outer, inner); },
        [&](float* y) { GK::sub_rowvec(dx.data(), drow.data(), y, outer, inner); });
  check("mul_rowvec_accumulate", [&](float* y) { CK::mul_rowvec_accumulate(x.data(), row.data(), y, outer, inner); },
        [&](float* y) { GK::mul_rowvec_accumulate(dx.data(), drow.data(), y, outer, inner); });
  check("scale", [&](float* y) { CK::scale(y, 1.5f, n); }, [&](float* y) { GK::scale(y, 1.5f, n); });

  auto cd = row;
  device_buffer<float> gd(row);
  CK::sum_outer_accumulate(x.data(), cd.data(), outer, inner);
  GK::sum_outer_accumulate(dx.data(), gd.data(), outer, inner);
  CHECK_CLOSE_TO_CPU("sum_outer_accumulate", gd, cd);

  std::vector<float> cs(1);
  device_buffer<float> gs(1);
  CK::sum(x.data(), n, 0.5f, cs.data());
  GK::sum(dx.data(), n, 0.5f, gs.data());
  CHECK(std::abs(gs.host()[0] - cs[0]) <= 1e-5 * (std::abs(cs[0]) + 1));
  CHECK(std::abs(GK::sum_squares(dx.data(), n) - CK::sum_squares(x.data(), n)) <= 1e-9 * CK::sum_squares(x.data(), n));
}

TEST_CASE("linear, layernorm, gelu and softmax") {
  const std::size_t rows = 267, in = 96, out = 80;
  const auto x = random_vector<float>(rows * in, 1, -2.0, 3.0), w = random_vector<float>(out * in, 2);
  const auto b = random_vector<float>(out, 3), dy = random_vector<float>(rows * out, 4);
  device_buffer<float> gx(x), gw(w), gb(b), gdy(dy);

  std::vector<float> yc(rows * out);
  device_buffer<float> yg(rows * out);
  CK::linear_forward(x.data(), w.data(), b.data(), yc.data(), rows, in, out);
  GK::linear_forward(gx.data(), gw.data(), gb.data(), yg.data(), rows, in, out);
  CHECK_CLOSE_TO_CPU("linear_forward", yg, yc);
  auto dxc = random_vector<float>(rows * in, 5), dwc = random_vector<float>(out * in, 6), dbc = random_vector<float>(out, 7);
  device_buffer<float> dxg(dxc), dwg(dwc), dbg(dbc);
  CK::linear_backward(x.data(), w.data(), dy.data(), dxc.data(), dwc.data(), dbc.data(), rows, in, out);
  GK::linear_backward(gx.data(), gw.data(), gdy.data(), dxg.data(), dwg.data(), dbg.data(), rows, in, out);
  CHECK_CLOSE_TO_CPU("linear dx", dxg, dxc);
  CHECK_CLOSE_TO_CPU("linear dw", dwg, dwc);
  CHECK_CLOSE_TO_CPU("linear db", dbg, dbc);

  // LayerNorm over the rows of x (cols = in), parameters w[0:in), b[0:in) of a fresh draw.
  const auto lw = random_vector<float>(in, 8), lb = random_vector<float>(in, 9), ldy = random_vector<float>(rows * in, 10);
  device_buffer<float> glw(lw), glb(lb), gldy(ldy);
  std::vector<float> ly(rows * in), lm(rows), lr(rows);
  device_buffer<float> gly(rows * in), glm(rows), glr(rows);
  CK::layernorm_forward(x.data(), lw.data(), lb.data(), ly.data(), lm.data(), lr.data(), rows, in, 1e-6f);
  GK::layernorm_forward(gx.data(), glw.data(), glb.data(), gly.data(), glm.data(), glr.data(), rows, in, 1e-6f);
  CHECK_CLOSE_TO_CPU("layernorm y", gly, ly);
  CHECK_CLOSE_TO_CPU("layernorm rstd", glr, lr);
  auto ldx = random_vector<float>(rows * in, 11), ldw = random_vector<float>(in, 12), ldb = random_vector<float>(in, 13);
  device_buffer<float> gldx(ldx), gldw(ldw), gldb(ldb);
  CK::layernorm_backward(x.data(), lw.data(), lm.data(), lr.data(), ldy.data(), ldx.data(), ldw.data(), ldb.data(),
                         rows, in);
  GK::layernorm_backward(gx.data(), glw.data(), glm.data(), glr.data(), gldy.data(), gldx.data(), gldw.data(),
                         gldb.data(), rows, in);
  CHECK_CLOSE_TO_CPU("layernorm dx", gldx, ldx);
  CHECK_CLOSE_TO_CPU("layernorm dw", gldw, ldw);
  CHECK_CLOSE_TO_CPU("layernorm db", gldb, ldb);

  const std::size_t n = rows * in;
  std::vector<float> gy(n);
  device_buffer<float> ggy(n);
  CK::gelu_forward(x.data(), gy.data(), n);
  GK::gelu_forward(gx.data(), ggy.data(), n);
  CHECK_CLOSE_TO_CPU("gelu y", ggy, gy);
  auto gdx = random_vector<float>(n, 14);
  device_buffer<float> ggdx(gdx);
  CK::gelu_backward(x.data(), ldy.data(), gdx.data(), n);
  GK::gelu_backward(gx.data(), gldy.data(), ggdx.data(), n);
  CHECK_CLOSE_TO_CPU("gelu dx", ggdx, gdx);

  std::vector<float> sy(n);
  device_buffer<float> gsy(n);
  CK::softmax_forward(x.data(), sy.data(), rows, in);
  GK::softmax_forward(gx.data(), gsy.data(), rows, in);
  CHECK_CLOSE_TO_CPU("softmax y", gsy, sy);
  auto sdx = random_vector<float>(n, 15);
  device_buffer<float> gsdx(sdx);
  CK::softmax_backward(sy.data(), ldy.data(), sdx.data(), rows, in);
  GK::softmax_backward(gsy.data(), gldy.data(), gsdx.data(), rows, in);
  CHECK_CLOSE_TO_CPU("softmax dx", gsdx, sdx);
}

TEST_CASE("attention forward and backward") {
  struct Case { std::size_t b, n, h, hd; };
  for (Case c : {Case{3, 50, 12, 64}, Case{20, 197, 4, 32}}) {  // loops over heads, then over samples
    INFO("B " << c.b << " N " << c.n << " H " << c.h << " hd " << c.hd);
    const std::size_t D = c.h * c.hd;
    const auto qkv = random_vector<float>(c.b * c.n * 3 * D, 1, -2.0, 2.0), dout = random_vector<float>(c.b * c.n * D, 2);
    device_buffer<float> gqkv(qkv), gdout(dout);
    std::vector<float> oc(c.b * c.n * D), pc(c.b * c.h * c.n * c.n);
    device_buffer<float> og(oc.size()), pg(pc.size());
    CK::attention_forward(qkv.data(), oc.data(), pc.data(), c.b, c.n, c.h, c.hd);
    GK::attention_forward(gqkv.data(), og.data(), pg.data(), c.b, c.n, c.h, c.hd);
    CHECK_CLOSE_TO_CPU("attention out", og, oc);
    CHECK_CLOSE_TO_CPU("attention probs", pg, pc);
    auto dc = random_vector<float>(qkv.size(), 3);
    device_buffer<float> dg(dc);
    std::vector<float> sc(CK::attention_scratch_elems(c.b, c.n, c.h, c.hd));
    device_buffer<float> sg(GK::attention_scratch_elems(c.b, c.n, c.h, c.hd));
    CK::attention_backward(qkv.data(), pc.data(), dout.data(), dc.data(), c.b, c.n, c.h, c.hd, sc.data());
    GK::attention_backward(gqkv.data(), pg.data(), gdout.data(), dg.data(), c.b, c.n, c.h, c.hd, sg.data());
    CHECK_CLOSE_TO_CPU("attention dqkv", dg, dc);
  }
}

TEST_CASE("tokens, patches and losses") {
  const std::size_t b = 4, nin = 49, nout = 12, d = 64;
  const auto x = random_vector<float>(b * nin * d, 1), dy = random_vector<float>(b * nout * d, 2);
  std::vector<std::int32_t> idx(b * nout);
  for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = static_cast<std::int32_t>((i * 7 + 3) % nin);
  idx[1] = idx[2];  // repeated: the scatter adds both
  device_buffer<float> gx(x), gdy(dy);
  device_buffer<std::int32_t> gidx(idx);
  std::vector<float> yc(b * nout * d);
  device_buffer<float> yg(yc.size());
  CK::gather_tokens(x.data(), idx.data(), yc.data(), b, nin, nout, d);
  GK::gather_tokens(gx.data(), gidx.data(), yg.data(), b, nin, nout, d);
  CHECK(yg.host() == yc);
  auto dxc = random_vector<float>(x.size(), 3);
  device_buffer<float> dxg(dxc);
  CK::scatter_add_tokens(dy.data(), idx.data(), dxc.data(), b, nin, nout, d);
  GK::scatter_add_tokens(gdy.data(), gidx.data(), dxg.data(), b, nin, nout, d);
  CHECK_CLOSE_TO_CPU("scatter_add_tokens", dxg, dxc);
  idx[13] = 49;
  device_buffer<std::int32_t> gbad(idx);
  CHECK_THROWS_WITH_AS(GK::gather_tokens(gx.data(), gbad.data(), yg.data(), b, nin, nout, d),
                       "gather_tokens: index 49 at (batch 1, position 1) is outside [0, 49)", mae::error);

  const std::size_t C = 3, H = 32, W = 32, p = 4, L = 64, P = p * p * C, n = b * C * H * W;
  const auto img = random_vector<float>(n, 4, -3.0, 5.0), pred = random_vector<float>(n, 5);
  device_buffer<float> gimg(img), gpred(pred);
  std::vector<float> pc(n);
  device_buffer<float> pg(n);
  CK::patchify(img.data(), pc.data(), b, C, H, W, p);
  GK::patchify(gimg.data(), pg.data(), b, C, H, W, p);
  CHECK(pg.host() == pc);
  CK::patchify_conv(img.data(), pc.data(), b, C, H, W, p);
  GK::patchify_conv(gimg.data(), pg.data(), b, C, H, W, p);
  CHECK(pg.host() == pc);
  GK::patchify(gimg.data(), pg.data(), b, C, H, W, p);
  CK::patchify(img.data(), pc.data(), b, C, H, W, p);
  device_buffer<float> back(n);
  GK::unpatchify(pg.data(), back.data(), b, C, H, W, p);
  CHECK(back.host() == img);

  std::vector<float> mask(b * L);
  for (std::size_t i = 0; i < mask.size(); ++i) mask[i] = float(i % 4 != 0);
  device_buffer<float> gmask(mask);
  std::vector<float> tnc(n), lc(1);
  device_buffer<float> tng(n), lg(1);
  CK::masked_mse_forward(pred.data(), pc.data(), mask.data(), tnc.data(), lc.data(), b, L, P, true, 1e-6f);
  GK::masked_mse_forward(gpred.data(), pg.data(), gmask.data(), tng.data(), lg.data(), b, L, P, true, 1e-6f);
  CHECK_CLOSE_TO_CPU("masked_mse target_norm", tng, tnc);
  CHECK_CLOSE_TO_CPU("masked_mse loss", lg, lc);
  const std::vector<float> dloss{0.7f};
  device_buffer<float> gdloss(dloss);
  auto dpc = random_vector<float>(n, 6);
  device_buffer<float> dpg(dpc);
  CK::masked_mse_backward(pred.data(), tnc.data(), mask.data(), dloss.data(), dpc.data(), b, L, P);
  GK::masked_mse_backward(gpred.data(), tng.data(), gmask.data(), gdloss.data(), dpg.data(), b, L, P);
  CHECK_CLOSE_TO_CPU("masked_mse dpred", dpg, dpc);

  const std::size_t classes = 10;
  const auto logits = random_vector<float>(b * nout * classes, 7, -5.0, 5.0);
  std::vector<std::int32_t> labels(b * nout);
  for (std::size_t r = 0; r < labels.size(); ++r) labels[r] = static_cast<std::int32_t>(r * 3 % classes);
  device_buffer<float> glogits(logits);
  device_buffer<std::int32_t> glabels(labels);
  std::vector<float> prc(logits.size()), cec(1);
  device_buffer<float> prg(logits.size()), ceg(1);
  CK::cross_entropy_forward(logits.data(), labels.data(), prc.data(), cec.data(), labels.size(), classes);
  GK::cross_entropy_forward(glogits.data(), glabels.data(), prg.data(), ceg.data(), labels.size(), classes);
  CHECK_CLOSE_TO_CPU("cross-entropy loss", ceg, cec);
  auto dlc = random_vector<float>(logits.size(), 8);
  device_buffer<float> dlg(dlc);
  CK::cross_entropy_backward(prc.data(), labels.data(), dloss.data(), dlc.data(), labels.size(), classes);
  GK::cross_entropy_backward(prg.data(), glabels.data(), gdloss.data(), dlg.data(), labels.size(), classes);
  CHECK_CLOSE_TO_CPU("cross-entropy dlogits", dlg, dlc);
}

TEST_CASE("fill_uniform and random_masking are bit-identical to the CPU backend") {
  const std::size_t batch = 64, tokens = 196, keep = 49, n = batch * tokens;
  std::vector<float> noise(n);
  device_buffer<float> gnoise(n);
  CK::fill_uniform(noise.data(), n, 2024, 17);
  GK::fill_uniform(gnoise.data(), n, 2024, 17);
  CHECK(gnoise.host() == noise);
  for (std::size_t i = 0; i < n; i += 7) noise[i] = 0.5f;  // ties
  device_buffer<float> gties(noise);
  std::vector<std::int32_t> sh(n), re(n), ke(batch * keep);
  std::vector<float> mk(n);
  device_buffer<std::int32_t> gsh(n), gre(n), gke(batch * keep);
  device_buffer<float> gmk(n);
  CK::random_masking(noise.data(), batch, tokens, keep, MaskIndices<float>{sh.data(), re.data(), ke.data(), mk.data()});
  GK::random_masking(gties.data(), batch, tokens, keep,
                     MaskIndices<float>{gsh.data(), gre.data(), gke.data(), gmk.data()});
  CHECK(gsh.host() == sh);
  CHECK(gre.host() == re);
  CHECK(gke.host() == ke);
  CHECK(gmk.host() == mk);
}

TEST_CASE("adamw_step") {
  const std::size_t n = 100003;
  auto pc = random_vector<float>(n, 1);
  std::vector<float> mc(n, 0.f), vc(n, 0.f);
  device_buffer<float> pg(pc), mg(mc), vg(vc);
  for (long step = 1; step <= 3; ++step) {
    const auto g = random_vector<float>(n, 10 + std::uint64_t(step));
    device_buffer<float> gg(g);
    CK::adamw_step(pc.data(), g.data(), mc.data(), vc.data(), n, 1e-3f, 0.9f, 0.95f, 1e-8f, 0.05f, step);
    GK::adamw_step(pg.data(), gg.data(), mg.data(), vg.data(), n, 1e-3f, 0.9f, 0.95f, 1e-8f, 0.05f, step);
  }
  CHECK_CLOSE_TO_CPU("adamw param", pg, pc);
  CHECK_CLOSE_TO_CPU("adamw exp_avg_sq", vg, vc);
}

TEST_CASE("a failing CUDA call names the file, the line and the call") {
  const auto bad_direction = static_cast<cudaMemcpyKind>(99);  // rejected before any copy; not a sticky error
  CHECK_THROWS_WITH_AS(MAE_CUDA_CHECK(cudaMemcpy(nullptr, nullptr, 4, bad_direction)),
                       doctest::Contains("test_cuda_ops.cu"), mae::error);
  CHECK_THROWS_WITH_AS(MAE_CUDA_CHECK(cudaMemcpy(nullptr, nullptr, 4, bad_direction)),
                       doctest::Contains("cudaMemcpy(nullptr, nullptr, 4, bad_direction) failed"), mae::error);
}
