#pragma once
// IDX files of unsigned bytes (MNIST, Fashion-MNIST): big-endian magic 0x000008NN with N dimensions,
// N big-endian uint32 sizes, then the bytes in C order. Plain or gzip-compressed (detected by the
// gzip magic), decompressed in memory by zlib. Validation is exact: the data must hold exactly the
// bytes the dimensions promise, and a gzip stream must end cleanly with a correct checksum.
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "mae/core/error.hpp"
#include "mae/io/file.hpp"

namespace mae {

struct IdxArray {
  std::vector<std::size_t> dims;
  std::vector<std::uint8_t> data;  // C order
};

struct IdxImages {
  std::size_t n = 0, rows = 0, cols = 0;
  std::vector<std::uint8_t> pixels;  // n * rows * cols, row-major per image
};

namespace detail {

// Bytes of a plain or gzip file, read front to back. Throws on corrupt or truncated gzip data.
class IdxByteSource {
 public:
  IdxByteSource(std::span<const std::byte> file, const std::string& prefix)
      : file_(file), prefix_(prefix) {
    gzip_ = file.size() >= 2 && file[0] == std::byte{0x1f} && file[1] == std::byte{0x8b};
    if (!gzip_) return;
    zs_.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(file.data()));
    zs_.avail_in = 0;
    if (inflateInit2(&zs_, 16 + MAX_WBITS) != Z_OK) throw error(prefix_ + "zlib init failed");
  }
  ~IdxByteSource() {
    if (gzip_) inflateEnd(&zs_);
  }
  IdxByteSource(const IdxByteSource&) = delete;
  IdxByteSource& operator=(const IdxByteSource&) = delete;

  // Reads up to n bytes; fewer only at the end of the data.
  std::size_t read(std::uint8_t* dst, std::size_t n) {
    if (!gzip_) {
      const std::size_t k = std::min(n, file_.size() - pos_);
      std::copy_n(reinterpret_cast<const std::uint8_t*>(file_.data()) + pos_, k, dst);
      pos_ += k;
      return k;
    }
    std::size_t done = 0;
    while (done < n) {
      if (zs_.avail_in == 0 && pos_ < file_.size()) {  // feed at most 1 GiB at a time (uInt)
        const std::size_t k = std::min<std::size_t>(file_.size() - pos_, std::size_t{1} << 30);
        zs_.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(file_.data() + pos_));
        zs_.avail_in = static_cast<uInt>(k);
        pos_ += k;
      }
      if (member_done_) {
        if (zs_.avail_in == 0) break;  // clean end of the last gzip member
        if (inflateReset(&zs_) != Z_OK) throw error(prefix_ + "zlib reset failed");
        member_done_ = false;
      }
      const std::size_t want = std::min<std::size_t>(n - done, std::size_t{1} << 30);
      zs_.next_out = dst + done;
      zs_.avail_out = static_cast<uInt>(want);
      const int rc = inflate(&zs_, Z_NO_FLUSH);
      done += want - zs_.avail_out;
      if (rc == Z_STREAM_END) {
        member_done_ = true;
      } else if (rc == Z_BUF_ERROR && zs_.avail_in == 0 && pos_ == file_.size()) {
        throw error(prefix_ + "gzip stream ends early (truncated file?)");
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        throw error(prefix_ + "corrupt gzip data (" + (zs_.msg ? zs_.msg : "zlib error " +
                                                                      std::to_string(rc)) + ")");
      }
    }
    return done;
  }

 private:
  std::span<const std::byte> file_;
  std::string prefix_;
  std::size_t pos_ = 0;  // next unread byte of file_ (plain) or next byte to feed to zlib (gzip)
  bool gzip_ = false, member_done_ = false;
  z_stream zs_{};
};

inline std::string dims_text(const std::vector<std::size_t>& dims) {
  std::string s = "(";
  for (std::size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + ")";
}

}  // namespace detail

// Decodes an unsigned-byte IDX file held in memory; `source` names it in errors.
inline IdxArray decode_idx(std::span<const std::byte> file, const std::string& source = "<memory>") {
  const std::string prefix = "IDX '" + source + "': ";
  const auto fail = [&](const std::string& what) { throw error(prefix + what); };
  detail::IdxByteSource in(file, prefix);

  std::array<std::uint8_t, 4> magic{};
  if (in.read(magic.data(), 4) != 4) fail("truncated: shorter than the 4-byte magic number");
  if (magic[0] != 0 || magic[1] != 0 || magic[2] != 0x08 || magic[3] == 0 || magic[3] > 8) {
    char hex[16];
    std::snprintf(hex, sizeof hex, "0x%02x%02x%02x%02x", magic[0], magic[1], magic[2], magic[3]);
    fail(std::string("bad magic number ") + hex +
         ", expected 0x000008NN (unsigned bytes, 1 <= N <= 8 dimensions)");
  }
  IdxArray out;
  std::size_t total = 1;
  constexpr std::size_t max_bytes = (std::size_t{1} << 31) - 1;
  for (int d = 0; d < magic[3]; ++d) {
    std::array<std::uint8_t, 4> be{};
    if (in.read(be.data(), 4) != 4) fail("truncated in the dimension sizes");
    out.dims.push_back(std::size_t{be[0]} << 24 | std::size_t{be[1]} << 16 |
                       std::size_t{be[2]} << 8 | std::size_t{be[3]});
    total *= out.dims.back();  // <= 2^31 * 2^32 before the check below: no overflow
    if (total > max_bytes)
      fail("dimensions " + detail::dims_text(out.dims) + "... exceed the limit of 2^31 - 1 bytes");
  }
  // Grow (doubling) with the data actually present: a lying header cannot make us allocate 2 GiB.
  std::size_t got = 0;
  while (got < total) {
    const std::size_t chunk = std::min(total - got, std::max(got, std::size_t{1} << 16));
    out.data.resize(got + chunk);
    const std::size_t k = in.read(out.data.data() + got, chunk);
    got += k;
    if (k < chunk)
      fail("truncated: dimensions " + detail::dims_text(out.dims) + " need " +
           std::to_string(total) + " data bytes, the file holds " + std::to_string(got));
  }
  std::uint8_t extra = 0;
  if (in.read(&extra, 1) != 0)
    fail("trailing bytes after the " + std::to_string(total) + " data bytes of dimensions " +
         detail::dims_text(out.dims));
  return out;
}

inline IdxArray read_idx(const std::string& path) { return decode_idx(read_file(path), path); }

inline IdxImages read_idx_images(const std::string& path) {
  IdxArray a = read_idx(path);
  if (a.dims.size() != 3 || a.dims[1] == 0 || a.dims[2] == 0)
    throw error("IDX '" + path + "': expected images (magic 0x00000803, dimensions (n, rows, cols)),"
                " found dimensions " + detail::dims_text(a.dims));
  return IdxImages{a.dims[0], a.dims[1], a.dims[2], std::move(a.data)};
}

inline std::vector<std::uint8_t> read_idx_labels(const std::string& path) {
  IdxArray a = read_idx(path);
  if (a.dims.size() != 1)
    throw error("IDX '" + path + "': expected labels (magic 0x00000801, dimensions (n)), found "
                "dimensions " + detail::dims_text(a.dims));
  return std::move(a.data);
}

// Where Debian's dataset-fashion-mnist package installs the data.
inline std::string fashion_mnist_dir() { return "/usr/share/datasets/fashion-mnist"; }

struct FashionMnistPaths {
  std::string images, labels;
};

// The image and label files of the train (60000) or test (10000) split in `dir`: the gzip names
// Debian ships (train-images-idx3-ubyte.gz, ...) or the same names decompressed.
inline FashionMnistPaths fashion_mnist_paths(const std::string& dir, bool train) {
  const std::string split = train ? "train" : "t10k";
  const auto find = [&](const std::string& stem) {
    for (const char* ext : {".gz", ""}) {
      const std::string path = dir + "/" + split + stem + ext;
      std::error_code ec;
      if (std::filesystem::is_regular_file(path, ec)) return path;
    }
    throw error("Fashion-MNIST: no '" + split + stem + ".gz' (or '" + split + stem + "') in '" +
                dir + "': install the Debian package dataset-fashion-mnist (apt-get install "
                "dataset-fashion-mnist) or pass the directory that holds the IDX files");
  };
  FashionMnistPaths p;
  p.images = find("-images-idx3-ubyte");
  p.labels = find("-labels-idx1-ubyte");
  return p;
}

struct FashionMnist {
  IdxImages images;                  // 28 x 28
  std::vector<std::uint8_t> labels;  // 0..9, one per image
};

inline FashionMnist load_fashion_mnist(const std::string& dir, bool train) {
  const FashionMnistPaths p = fashion_mnist_paths(dir, train);
  FashionMnist d{read_idx_images(p.images), read_idx_labels(p.labels)};
  if (d.images.rows != 28 || d.images.cols != 28)
    throw error("Fashion-MNIST '" + p.images + "': images are " + std::to_string(d.images.rows) +
                "x" + std::to_string(d.images.cols) + ", expected 28x28");
  if (d.labels.size() != d.images.n)
    throw error("Fashion-MNIST: '" + p.images + "' holds " + std::to_string(d.images.n) +
                " images but '" + p.labels + "' " + std::to_string(d.labels.size()) + " labels");
  const auto bad = std::find_if(d.labels.begin(), d.labels.end(), [](auto l) { return l > 9; });
  if (bad != d.labels.end())
    throw error("Fashion-MNIST '" + p.labels + "': label " + std::to_string(*bad) + " at index " +
                std::to_string(bad - d.labels.begin()) + " is not in 0..9");
  return d;
}

}  // namespace mae
