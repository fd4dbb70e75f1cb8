// The embedded path (StaticModel) gives the heap MaskedAutoencoder's results bit for bit: encode_all, and
// pred and mask of the forward, for the same weights (read in place from safetensors bytes), images and noise.
#include <doctest/doctest.h>

#include <memory>

#include "embedded/check_bits.hpp"

namespace {
using namespace mae;
using embedded::Status;
using test::Bound;
}  // namespace

TEST_CASE("embedded fmnist-tiny, batch 1 and 2: encode_all, pred and mask are the heap model's bits") {
  test::check_same_bits<presets::fmnist_tiny, 1, true>(11);
  test::check_same_bits<presets::fmnist_tiny, 2, false>(12);
}

TEST_CASE("embedded reconstruct: a 0/1 array as noise removes exactly the patches marked 1") {
  using Mae = embedded::StaticMae<presets::fmnist_tiny, 1>;
  test::EmbeddedFixture<presets::fmnist_tiny> fx(21);
  const auto bytes = fx.bytes();
  auto images = fx.uniform(Mae::image_elems, 22, 0.f, 1.f);
  std::vector<float> chosen(Mae::L, 1.f);
  for (std::size_t t = 0; t < Mae::Keep; ++t) chosen[(t * 5 + 3) % Mae::L] = 0.f;  // Keep distinct visible patches
  Bound<Mae> m;
  REQUIRE(embedded::load_weights(m.model, bytes.data(), bytes.size()) == Status::ok);
  std::vector<float> pred(Mae::pred_elems), mask(Mae::mask_elems);
  REQUIRE(m.model.reconstruct(images.data(), chosen.data(), pred.data(), mask.data()) == Status::ok);
  CHECK(mask == chosen);
  const auto heap = fx.forward(images, chosen, 1);
  CHECK(test::same_bits(pred.data(), heap.pred.data(), pred.size()));
}

TEST_CASE("embedded position tables come from the file, as the heap model's load_weights takes them") {
  using Encoder = embedded::StaticEncoder<presets::fmnist_tiny, 1>;
  test::EmbeddedFixture<presets::fmnist_tiny> fx(31);
  // Tables that differ from the sin-cos ones: the loaded model must use these.
  for (std::size_t i = 0; i < fx.model.pos_embed.size(); ++i) fx.model.pos_embed.data()[i] += 0.01f * float(i % 7);
  const auto bytes = fx.bytes();
  auto images = fx.uniform(Encoder::image_elems, 32, -1.f, 1.f);
  const auto features = fx.encode_all(images, 1);
  Bound<Encoder> enc;
  REQUIRE(embedded::load_weights(enc.model, bytes.data(), bytes.size()) == Status::ok);
  std::vector<float> out(Encoder::feature_elems);
  REQUIRE(enc.model.encode_all(images.data(), out.data()) == Status::ok);
  CHECK(test::same_bits(out.data(), features.data(), out.size()));
}

TEST_CASE("embedded GEMMs report a too small workspace when Eigen's cache sizes grow after the arena was sized") {
  using Encoder = embedded::StaticEncoder<presets::fmnist_tiny, 1>;
  // Only where Eigen blocks fc2's depth (512) at the tuned L1 size: a larger L1 then asks for larger blocks.
  if (embedded::detail::eigen_kc<float>(Encoder::Hidden) == Encoder::Hidden) return;
  test::EmbeddedFixture<presets::fmnist_tiny> fx(41);
  const auto bytes = fx.bytes();
  auto images = fx.uniform(Encoder::image_elems, 42, -1.f, 1.f);
  Bound<Encoder> enc;
  REQUIRE(embedded::load_weights(enc.model, bytes.data(), bytes.size()) == Status::ok);
  std::vector<float> out(Encoder::feature_elems);
  REQUIRE(enc.model.encode_all(images.data(), out.data()) == Status::ok);
  const std::ptrdiff_t l1 = Eigen::l1CacheSize(), l2 = Eigen::l2CacheSize(), l3 = Eigen::l3CacheSize();
  Eigen::setCpuCacheSizes(8 * l1, l2, l3);
  const Status grown = enc.model.encode_all(images.data(), out.data());
  Eigen::setCpuCacheSizes(l1, l2, l3);
  CHECK(grown == Status::workspace_too_small);
  CHECK(enc.model.encode_all(images.data(), out.data()) == Status::ok);
}
