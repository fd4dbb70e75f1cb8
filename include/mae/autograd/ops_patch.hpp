#pragma once
// patchify / unpatchify (MAE_SPEC §1): (N, C, H, W) <-> (N, L, p*p*C), patch vectors channel-fastest.
// patch_rows_conv gives the same patches in Conv2d weight order (channel slowest) for the patch embedding.
#include "mae/autograd/tape.hpp"

namespace mae {

template <std::size_t C, std::size_t H, std::size_t W, std::size_t P>
struct patch_grid {
  static_assert(H % P == 0 && W % P == 0, "patchify: the image size must be a multiple of the patch size");
  static constexpr std::size_t rows = H / P, cols = W / P, tokens = rows * cols, width = P * P * C;
};

template <std::size_t P, class T, std::size_t Bt, std::size_t C, std::size_t H, std::size_t W, class B>
auto patchify(Tape<B>& tape, Var<T, Shape<Bt, C, H, W>, B> img) {
  using G = patch_grid<C, H, W, P>;
  const std::size_t batch = img.dims[0];
  auto y = tape.template output<T, Shape<Bt, G::tokens, G::width>>({batch, G::tokens, G::width}, img);
  kernels<B>::patchify(img.value, y.value, batch, C, H, W, P);
  if (y.grad) {
    struct Node {
      T *dimg, *scratch;
      const T* dy;
      std::size_t batch;
      void backward() const {
        kernels<B>::unpatchify(dy, scratch, batch, C, H, W, P);
        kernels<B>::accumulate(dimg, scratch, batch * C * H * W);
      }
    };
    tape.record(Node{img.grad, tape.template scratch<T>(img.size()), y.grad, batch});
  }
  return y;
}

template <std::size_t C, std::size_t H, std::size_t W, std::size_t P, class T, std::size_t Bt, std::size_t L,
          std::size_t PPC, class B>
Var<T, Shape<Bt, C, H, W>, B> unpatchify(Tape<B>& tape, Var<T, Shape<Bt, L, PPC>, B> x) {
  using G = patch_grid<C, H, W, P>;
  static_assert(L == G::tokens && PPC == G::width, "unpatchify: tokens or patch width do not fit the image");
  const std::size_t batch = x.dims[0];
  auto y = tape.template output<T, Shape<Bt, C, H, W>>({batch, C, H, W}, x);
  kernels<B>::unpatchify(x.value, y.value, batch, C, H, W, P);
  if (y.grad) {
    struct Node {
      T *dx, *scratch;
      const T* dy;
      std::size_t batch;
      void backward() const {
        kernels<B>::patchify(dy, scratch, batch, C, H, W, P);
        kernels<B>::accumulate(dx, scratch, batch * L * PPC);
      }
    };
    tape.record(Node{x.grad, tape.template scratch<T>(x.size()), y.grad, batch});
  }
  return y;
}

// Patches in Conv2d order (channel, row, col): input rows of the patch-embedding linear map. Images are data,
// so no gradient flows back into them.
template <std::size_t P, class T, std::size_t Bt, std::size_t C, std::size_t H, std::size_t W, class B>
auto patch_rows_conv(Tape<B>& tape, Var<T, Shape<Bt, C, H, W>, B> img) {
  using G = patch_grid<C, H, W, P>;
  MAE_CHECK(!img.requires_grad(), "patch_rows_conv: gradients into images are not supported");
  const std::size_t batch = img.dims[0];
  auto y = tape.template output<T, Shape<Bt, G::tokens, G::width>>({batch, G::tokens, G::width});
  kernels<B>::patchify_conv(img.value, y.value, batch, C, H, W, P);
  return y;
}

}  // namespace mae
