#include <doctest/doctest.h>

#include <unistd.h>
#include <zlib.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "mae/io/idx.hpp"

namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

// An unsigned-byte IDX file: magic 0x000008NN, big-endian dims, then `data`.
Bytes idx_file(const std::vector<std::uint32_t>& dims, const Bytes& data) {
  Bytes f = {0, 0, 0x08, static_cast<std::uint8_t>(dims.size())};
  for (std::uint32_t d : dims)
    for (int shift : {24, 16, 8, 0}) f.push_back(static_cast<std::uint8_t>(d >> shift));
  f.insert(f.end(), data.begin(), data.end());
  return f;
}

Bytes gzip(const Bytes& raw) {
  z_stream zs{};
  REQUIRE(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  Bytes out(deflateBound(&zs, raw.size()) + 32);
  zs.next_in = const_cast<Bytef*>(raw.data());
  zs.avail_in = static_cast<uInt>(raw.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&zs, Z_FINISH) == Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

Bytes ramp(std::size_t n) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(i * 7 + 3);
  return b;
}

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("mae_test_idx_" + std::to_string(::getpid()));
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
  std::string write(const std::string& name, const Bytes& bytes) const {
    const fs::path p = path / name;
    std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                             static_cast<std::streamsize>(bytes.size()));
    return p.string();
  }
};

mae::IdxArray decode(const Bytes& b) {
  return mae::decode_idx(std::as_bytes(std::span(b)), "case.idx");
}

#define CHECK_REJECTS(bytes, text) \
  CHECK_THROWS_WITH_AS(decode(bytes), doctest::Contains(text), mae::error)

}  // namespace

TEST_CASE("reads plain, gzip and multi-member gzip IDX files") {
  const TempDir dir;
  const Bytes pixels = ramp(3 * 2 * 4);
  const Bytes images = idx_file({3, 2, 4}, pixels);
  const Bytes labels = idx_file({3}, {7, 0, 9});
  const Bytes split_gz = [&] {  // two gzip members, as `cat a.gz b.gz` makes
    Bytes a = gzip(Bytes(images.begin(), images.begin() + 10));
    const Bytes b = gzip(Bytes(images.begin() + 10, images.end()));
    a.insert(a.end(), b.begin(), b.end());
    return a;
  }();
  for (const Bytes& file : {images, gzip(images), split_gz}) {
    const mae::IdxImages im = mae::read_idx_images(dir.write("images", file));
    CHECK(im.n == 3);
    CHECK(im.rows == 2);
    CHECK(im.cols == 4);
    CHECK(im.pixels == pixels);
  }
  CHECK(mae::read_idx_labels(dir.write("labels.gz", gzip(labels))) == Bytes{7, 0, 9});
  CHECK(mae::read_idx_labels(dir.write("labels", labels)) == Bytes{7, 0, 9});
  const mae::IdxArray zero = decode(idx_file({0, 28, 28}, {}));
  CHECK(zero.dims == std::vector<std::size_t>{0, 28, 28});
  CHECK(zero.data.empty());
}

TEST_CASE("rejects bad magic numbers and the wrong kind of file") {
  CHECK_REJECTS(Bytes{}, "IDX 'case.idx': truncated: shorter than the 4-byte magic number");
  CHECK_REJECTS((Bytes{0, 0, 0x09, 3}), "bad magic number 0x00000903");  // signed bytes
  CHECK_REJECTS((Bytes{1, 0, 0x08, 3}), "bad magic number 0x01000803");
  CHECK_REJECTS((Bytes{0, 0, 0x08, 0}), "bad magic number 0x00000800");
  CHECK_REJECTS((Bytes{0, 0, 0x08, 9}), "bad magic number 0x00000809");
  const TempDir dir;
  const std::string labels = dir.write("labels", idx_file({3}, {1, 2, 3}));
  CHECK_THROWS_WITH_AS(mae::read_idx_images(labels),
                       doctest::Contains("expected images (magic 0x00000803, dimensions (n, rows, "
                                         "cols)), found dimensions (3)"),
                       mae::error);
  const std::string images = dir.write("images", idx_file({1, 1, 2}, {1, 2}));
  CHECK_THROWS_WITH_AS(mae::read_idx_labels(images),
                       doctest::Contains("expected labels (magic 0x00000801, dimensions (n)), found "
                                         "dimensions (1, 1, 2)"),
                       mae::error);
  CHECK_THROWS_WITH_AS(mae::read_idx_images(dir.write("flat", idx_file({2, 0, 5}, {}))),
                       doctest::Contains("found dimensions (2, 0, 5)"), mae::error);
  CHECK_THROWS_WITH_AS(mae::read_idx_images((dir.path / "absent.gz").string()),
                       doctest::Contains("absent.gz"), mae::error);
}

TEST_CASE("rejects truncated, oversized and over-long files") {
  const Bytes good = idx_file({3, 2, 4}, ramp(24));
  CHECK_REJECTS(Bytes(good.begin(), good.begin() + 6), "truncated in the dimension sizes");
  CHECK_REJECTS(Bytes(good.begin(), good.end() - 4),
                "truncated: dimensions (3, 2, 4) need 24 data bytes, the file holds 20");
  Bytes longer = good;
  longer.push_back(0);
  CHECK_REJECTS(longer, "trailing bytes after the 24 data bytes of dimensions (3, 2, 4)");
  CHECK_REJECTS(gzip(longer), "trailing bytes after the 24 data bytes");
  CHECK_REJECTS(idx_file({65536, 65536, 1}, {}),
                "dimensions (65536, 65536)... exceed the limit of 2^31 - 1 bytes");
  CHECK_REJECTS(idx_file({0xffffffffu}, {}), "exceed the limit of 2^31 - 1 bytes");

  // A header that promises 2^31 - 1 bytes over a tiny file is refused without allocating them.
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_REJECTS(idx_file({0x7fffffffu}, {1, 2, 3}), "need 2147483647 data bytes, the file holds 3");
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(2));

  // Every strict prefix of a plain or gzip file is rejected with mae::error.
  const Bytes gz = gzip(good);
  for (const Bytes* file : {&good, &gz})
    for (std::size_t n = 0; n < file->size(); ++n)
      CHECK_THROWS_AS(decode(Bytes(file->begin(), file->begin() + n)), mae::error);
}

TEST_CASE("rejects truncated and corrupt gzip streams") {
  const Bytes gz = gzip(idx_file({3, 2, 4}, ramp(24)));
  // Without its 8-byte trailer all data inflates, but the stream has no end.
  CHECK_REJECTS(Bytes(gz.begin(), gz.end() - 8), "gzip stream ends early (truncated file?)");
  Bytes bad_crc = gz;
  bad_crc[bad_crc.size() - 6] ^= 0x01;
  CHECK_REJECTS(bad_crc, "corrupt gzip data (incorrect data check)");
  Bytes garbage = gz;
  garbage.push_back(0x00);
  garbage.push_back(0x00);
  CHECK_THROWS_AS(decode(garbage), mae::error);
  // Any single corrupted byte gives mae::error, or (in header fields that gzip ignores: mtime, OS)
  // the original data: the CRC lets nothing else through.
  const Bytes original = ramp(24);
  std::size_t rejected = 0;
  for (std::size_t pos = 0; pos < gz.size(); ++pos) {
    Bytes f = gz;
    f[pos] ^= 0x5a;
    mae::IdxArray a;
    try {
      a = decode(f);
    } catch (const mae::error&) {
      ++rejected;
      continue;
    }
    INFO("corrupted byte " << pos);
    CHECK(a.data == original);
  }
  CHECK(rejected + 6 >= gz.size());
}

TEST_CASE("Fashion-MNIST paths: Debian's gzip names, plain names, and a helpful error") {
  const TempDir dir;
  CHECK_THROWS_WITH_AS(mae::fashion_mnist_paths(dir.path.string(), true),
                       doctest::Contains("apt-get install dataset-fashion-mnist"), mae::error);
  try {
    mae::fashion_mnist_paths(dir.path.string(), false);
  } catch (const mae::error& e) {
    CHECK(std::string(e.what()).find("'t10k-images-idx3-ubyte.gz'") != std::string::npos);
    CHECK(std::string(e.what()).find(dir.path.string()) != std::string::npos);
  }
  // Two 28x28 images, decompressed names.
  dir.write("train-images-idx3-ubyte", idx_file({2, 28, 28}, ramp(2 * 28 * 28)));
  dir.write("train-labels-idx1-ubyte", idx_file({2}, {4, 9}));
  const mae::FashionMnistPaths p = mae::fashion_mnist_paths(dir.path.string(), true);
  CHECK(p.images == (dir.path / "train-images-idx3-ubyte").string());
  CHECK(p.labels == (dir.path / "train-labels-idx1-ubyte").string());
  const mae::FashionMnist d = mae::load_fashion_mnist(dir.path.string(), true);
  CHECK(d.images.n == 2);
  CHECK(d.labels == Bytes{4, 9});
  // The gzip name wins when both exist.
  dir.write("train-labels-idx1-ubyte.gz", gzip(idx_file({2}, {4, 10})));
  CHECK(mae::fashion_mnist_paths(dir.path.string(), true).labels ==
        (dir.path / "train-labels-idx1-ubyte.gz").string());
  CHECK_THROWS_WITH_AS(mae::load_fashion_mnist(dir.path.string(), true),
                       doctest::Contains("label 10 at index 1 is not in 0..9"), mae::error);
  dir.write("train-labels-idx1-ubyte.gz", gzip(idx_file({3}, {1, 2, 3})));
  CHECK_THROWS_WITH_AS(mae::load_fashion_mnist(dir.path.string(), true),
                       doctest::Contains("holds 2 images but"), mae::error);
  dir.write("train-images-idx3-ubyte", idx_file({2, 27, 28}, ramp(2 * 27 * 28)));
  CHECK_THROWS_WITH_AS(mae::load_fashion_mnist(dir.path.string(), true),
                       doctest::Contains("images are 27x28, expected 28x28"), mae::error);
}

TEST_CASE("the real Fashion-MNIST from dataset-fashion-mnist") {
  const std::string dir = mae::fashion_mnist_dir();
  if (!fs::exists(dir + "/train-images-idx3-ubyte.gz")) {
    MESSAGE("skipped: " << dir << " not installed (apt-get install dataset-fashion-mnist)");
    return;
  }
  for (const bool train : {true, false}) {
    const mae::FashionMnist d = mae::load_fashion_mnist(dir, train);
    const std::size_t n = train ? 60000 : 10000;
    CHECK(d.images.n == n);
    CHECK(d.images.rows == 28);
    CHECK(d.images.cols == 28);
    CHECK(d.images.pixels.size() == n * 784);
    std::array<std::size_t, 10> hist{};
    for (std::uint8_t l : d.labels) ++hist[l];
    for (std::size_t c : hist) CHECK(c == n / 10);
    CHECK(d.labels[0] == 9);  // the first image of both splits is an ankle boot
    if (train) {
      // The published normalisation constant of Fashion-MNIST: mean pixel 0.2860.
      double sum = 0;
      for (std::uint8_t p : d.images.pixels) sum += p;
      CHECK(std::abs(sum / static_cast<double>(d.images.pixels.size()) / 255 - 0.2860) < 1e-4);
    }
  }
}
