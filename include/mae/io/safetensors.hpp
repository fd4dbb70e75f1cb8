#pragma once
// safetensors (https://github.com/huggingface/safetensors): an 8-byte little-endian header length N,
// N bytes of JSON, then the tensor data, C order, little-endian. The reader validates everything a
// hostile file could get wrong (the format's own rules: no gaps, no overlaps, no trailing bytes)
// before it hands out a single byte; the writer produces what PyTorch-side tools expect.
#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "mae/core/error.hpp"
#include "mae/io/atomic_file.hpp"
#include "mae/io/file.hpp"

namespace mae {

static_assert(std::endian::native == std::endian::little,
              "mae's safetensors I/O assumes a little-endian host");

struct TensorInfo {
  std::string name;
  std::string dtype;  // "F32", "BF16", ...
  std::vector<std::int64_t> shape;
  std::size_t begin = 0, end = 0;  // byte offsets relative to the start of the data section

  std::size_t numel() const {
    std::size_t n = 1;
    for (std::int64_t d : shape) n *= static_cast<std::size_t>(d);  // validated not to overflow
    return n;
  }
};

// Bytes per element of a safetensors dtype; 0 for a dtype mae does not know.
inline std::size_t safetensors_dtype_size(std::string_view dtype) {
  static constexpr std::pair<std::string_view, std::size_t> sizes[] = {
      {"BOOL", 1}, {"U8", 1},   {"I8", 1},   {"F8_E5M2", 1}, {"F8_E4M3", 1},
      {"I16", 2},  {"U16", 2},  {"F16", 2},  {"BF16", 2},    {"I32", 4},
      {"U32", 4},  {"F32", 4},  {"I64", 8},  {"U64", 8},     {"F64", 8}};
  for (const auto& [name, size] : sizes)
    if (name == dtype) return size;
  return 0;
}

namespace detail {

inline std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + ")";
}

inline std::string offsets_text(const TensorInfo& t) {
  return "[" + std::to_string(t.begin) + ", " + std::to_string(t.end) + "]";
}

// `s` as a JSON string literal. Throws on invalid UTF-8 (RFC 3629), which readers reject.
inline std::string json_quote(std::string_view s, const std::string& what) {
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c == '"' || c == '\\') {
        out += '\\';
        out += static_cast<char>(c);
      } else if (c < 0x20) {
        static constexpr char hex[] = "0123456789abcdef";
        out += "\\u00";
        out += hex[c >> 4];
        out += hex[c & 15];
      } else {
        out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    // A multi-byte sequence: its length and the range allowed for its second byte.
    std::size_t n = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 3;
      if (c == 0xE0) lo = 0xA0;  // overlong
      if (c == 0xED) hi = 0x9F;  // surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 4;
      if (c == 0xF0) lo = 0x90;  // overlong
      if (c == 0xF4) hi = 0x8F;  // beyond U+10FFFF
    }
    bool ok = n != 0 && i + n <= s.size();
    for (std::size_t k = 1; ok && k < n; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      ok = k == 1 ? (b >= lo && b <= hi) : (b >= 0x80 && b <= 0xBF);
    }
    if (!ok) throw error(what + " is not valid UTF-8 (at byte " + std::to_string(i) + ")");
    out.append(s.substr(i, n));
    i += n;
  }
  return out + "\"";
}

inline float f16_to_f32(std::uint16_t h) {
  const std::uint32_t sign = std::uint32_t{h & 0x8000u} << 16;
  const std::uint32_t exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
  std::uint32_t bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);  // inf, nan (payload kept)
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (mant << 13);  // rebias 15 -> 127
  } else {
    // zero or subnormal: mant * 2^-24, exact in float
    const float v = static_cast<float>(mant) * 0x1p-24f;
    return sign ? -v : v;
  }
  return std::bit_cast<float>(bits);
}

inline float bf16_to_f32(std::uint16_t b) { return std::bit_cast<float>(std::uint32_t{b} << 16); }

// nlohmann SAX handler: builds the tensor table and metadata straight from the events, so no JSON
// tree is ever allocated, duplicate keys are caught (nlohmann's DOM keeps the last one silently),
// and nesting deeper than the format allows is rejected at the first level too many.
class SafetensorsHeaderParser {
 public:
  using json = nlohmann::json;
  static constexpr std::size_t max_rank = 64;

  SafetensorsHeaderParser(std::string prefix, std::vector<TensorInfo>& tensors,
                          std::map<std::string, std::string>& metadata)
      : prefix_(std::move(prefix)), tensors_(tensors), metadata_(metadata) {}

  bool finished() const { return at_ == At::done; }

  bool null() { bad_value(); }
  bool boolean(bool) { bad_value(); }
  bool binary(json::binary_t&) { bad_value(); }

  bool number_unsigned(json::number_unsigned_t v) {
    if (at_ == At::shape) {
      if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        fail("shape of tensor '" + entry_ + "' has dimension " + std::to_string(v) +
             ", too large");
      if (tensors_.back().shape.size() == max_rank)
        fail("shape of tensor '" + entry_ + "' has more than " + std::to_string(max_rank) +
             " dimensions");
      tensors_.back().shape.push_back(static_cast<std::int64_t>(v));
      return true;
    }
    if (at_ == At::offsets) {
      if (offsets_.size() == 2) bad_value();
      offsets_.push_back(v);
      return true;
    }
    bad_value();
  }
  bool number_integer(json::number_integer_t v) {  // nlohmann reports only negatives here
    if (at_ == At::shape)
      fail("shape of tensor '" + entry_ + "' has negative dimension " + std::to_string(v));
    if (at_ == At::offsets)
      fail("data_offsets of tensor '" + entry_ + "' has negative offset " + std::to_string(v));
    bad_value();
  }
  bool number_float(json::number_float_t, const json::string_t& text) {
    if (at_ == At::shape)
      fail("shape of tensor '" + entry_ + "' has dimension " + text +
           ", not an integer in range");
    if (at_ == At::offsets)
      fail("data_offsets of tensor '" + entry_ + "' has offset " + text +
           ", not an integer in range");
    bad_value();
  }

  bool string(json::string_t& s) {
    if (at_ == At::tensor && field_ == "dtype") {
      tensors_.back().dtype = s;
      return true;
    }
    if (at_ == At::metadata) {
      metadata_[field_] = s;
      return true;
    }
    bad_value();
  }

  bool start_object(std::size_t) {
    if (at_ == At::start) {
      at_ = At::top;
      return true;
    }
    if (at_ != At::top) bad_value();
    if (entry_ == "__metadata__") {
      at_ = At::metadata;
    } else {
      at_ = At::tensor;
      tensors_.push_back(TensorInfo{entry_, {}, {}, 0, 0});
      fields_.clear();
    }
    return true;
  }

  bool key(json::string_t& k) {
    if (at_ == At::top) {
      if (!top_keys_.insert(k).second) fail("duplicate key '" + k + "' in header");
      entry_ = k;
    } else if (at_ == At::tensor) {
      if (k != "dtype" && k != "shape" && k != "data_offsets")
        fail("unknown field '" + k + "' in tensor '" + entry_ + "'");
      if (!fields_.insert(k).second) fail("duplicate key '" + k + "' in tensor '" + entry_ + "'");
      field_ = k;
    } else {  // metadata
      if (metadata_.count(k)) fail("duplicate key '" + k + "' in __metadata__");
      field_ = k;
    }
    return true;
  }

  bool end_object() {
    if (at_ == At::tensor) {
      for (const char* f : {"dtype", "shape", "data_offsets"})
        if (!fields_.count(f)) fail("tensor '" + entry_ + "' lacks '" + f + "'");
    }
    at_ = at_ == At::top ? At::done : At::top;
    return true;
  }

  bool start_array(std::size_t) {
    if (at_ == At::tensor && field_ == "shape") {
      at_ = At::shape;
    } else if (at_ == At::tensor && field_ == "data_offsets") {
      at_ = At::offsets;
      offsets_.clear();
    } else {
      bad_value();
    }
    return true;
  }

  bool end_array() {
    if (at_ == At::offsets) {
      if (offsets_.size() != 2) bad_value();
      if (offsets_[0] > std::numeric_limits<std::size_t>::max() ||
          offsets_[1] > std::numeric_limits<std::size_t>::max())
        bad_value();
      tensors_.back().begin = static_cast<std::size_t>(offsets_[0]);
      tensors_.back().end = static_cast<std::size_t>(offsets_[1]);
    }
    at_ = At::tensor;
    return true;
  }

  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& ex) {
    fail(std::string("invalid JSON header: ") + ex.what());
  }

 private:
  enum class At { start, top, tensor, metadata, shape, offsets, done };

  [[noreturn]] void fail(const std::string& what) const { throw error(prefix_ + what); }

  // A JSON value of the wrong kind for where it stands.
  [[noreturn]] void bad_value() const {
    switch (at_) {
      case At::start: fail("header is not a JSON object");
      case At::top:
        if (entry_ == "__metadata__") fail("__metadata__ must be an object of strings");
        fail("entry '" + entry_ + "' is not an object");
      case At::metadata: fail("__metadata__ value of key '" + field_ + "' is not a string");
      case At::shape:
        fail("shape of tensor '" + entry_ + "' must be an array of non-negative integers");
      case At::offsets:
        fail("data_offsets of tensor '" + entry_ + "' must be two non-negative integers");
      default:
        if (field_ == "dtype") fail("dtype of tensor '" + entry_ + "' must be a string");
        if (field_ == "shape")
          fail("shape of tensor '" + entry_ + "' must be an array of non-negative integers");
        fail("data_offsets of tensor '" + entry_ + "' must be two non-negative integers");
    }
  }

  std::string prefix_;
  std::vector<TensorInfo>& tensors_;
  std::map<std::string, std::string>& metadata_;
  At at_ = At::start;
  std::set<std::string> top_keys_, fields_;
  std::string entry_, field_;
  std::vector<std::uint64_t> offsets_;
};

}  // namespace detail

// A parsed and validated safetensors file. It owns the file's bytes (from_file) or views the
// caller's (from_memory). Move-only: the views it hands out point into its storage.
class SafetensorsFile {
 public:
  static constexpr std::size_t max_header_bytes = 100'000'000;

  static SafetensorsFile from_file(const std::string& path) {
    SafetensorsFile f;
    f.storage_ = read_file(path);
    f.parse(f.storage_, path);
    return f;
  }

  // No copy: `bytes` must outlive the returned object. `source` names the bytes in error messages.
  static SafetensorsFile from_memory(std::span<const std::byte> bytes,
                                     std::string source = "<memory>") {
    SafetensorsFile f;
    f.parse(bytes, std::move(source));
    return f;
  }

  SafetensorsFile(SafetensorsFile&&) noexcept = default;
  SafetensorsFile& operator=(SafetensorsFile&&) noexcept = default;
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::string& source() const { return source_; }
  // In the order of the header.
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

  const TensorInfo* find(std::string_view name) const {
    const auto it = index_.find(name);
    return it == index_.end() ? nullptr : &tensors_[it->second];
  }
  const TensorInfo& at(std::string_view name) const {
    if (const TensorInfo* t = find(name)) return *t;
    std::string known;
    for (std::size_t i = 0; i < tensors_.size() && i < 8; ++i)
      known += (i ? ", '" : "'") + tensors_[i].name + "'";
    if (tensors_.size() > 8) known += ", ...";
    throw error("safetensors '" + source_ + "': no tensor '" + std::string(name) + "' (" +
                std::to_string(tensors_.size()) + " tensors" +
                (tensors_.empty() ? "" : ": " + known) + ")");
  }

  std::span<const std::byte> bytes(const TensorInfo& t) const {
    return data_.subspan(t.begin, t.end - t.begin);
  }

  // F32, F64, F16, BF16 -> float (F64 rounds to nearest).
  std::vector<float> read_f32(std::string_view name) const { return read<float>(name); }
  void read_f32_into(std::string_view name, std::span<float> out) const { read_into(name, out); }
  // F64, F32, F16, BF16 -> double (exact).
  std::vector<double> read_f64(std::string_view name) const { return read<double>(name); }
  void read_f64_into(std::string_view name, std::span<double> out) const { read_into(name, out); }
  // I64, I32 -> int64_t.
  std::vector<std::int64_t> read_i64(std::string_view name) const {
    return read<std::int64_t>(name);
  }
  void read_i64_into(std::string_view name, std::span<std::int64_t> out) const {
    read_into(name, out);
  }

 private:
  SafetensorsFile() = default;

  template <class T>
  std::vector<T> read(std::string_view name) const {
    std::vector<T> out(at(name).numel());
    read_into(name, std::span<T>(out));
    return out;
  }

  template <class T>
  void read_into(std::string_view name, std::span<T> out) const {
    const TensorInfo& t = at(name);
    const std::size_t n = t.numel();
    if (out.size() != n)
      throw error("safetensors '" + source_ + "': tensor '" + t.name + "' has shape " +
                  detail::shape_text(t.shape) + " = " + std::to_string(n) +
                  " elements, the destination holds " + std::to_string(out.size()));
    const std::byte* src = data_.data() + t.begin;
    const auto convert = [&]<class S>(S, auto to_t) {
      for (std::size_t i = 0; i < n; ++i) {
        S s;
        std::memcpy(&s, src + i * sizeof(S), sizeof(S));
        out[i] = to_t(s);
      }
    };
    const auto cast = [](auto s) { return static_cast<T>(s); };
    if constexpr (std::is_same_v<T, std::int64_t>) {
      if (t.dtype == "I64") return convert(std::int64_t{}, cast);
      if (t.dtype == "I32") return convert(std::int32_t{}, cast);
      wrong_dtype(t, "read_i64", "I64, I32");
    } else {
      if (t.dtype == (std::is_same_v<T, float> ? "F32" : "F64")) {
        if (n) std::memcpy(out.data(), src, n * sizeof(T));
        return;
      }
      if (t.dtype == "F32") return convert(float{}, cast);
      if (t.dtype == "F64") return convert(double{}, cast);
      const auto from16 = [&](auto f) { return [f](std::uint16_t s) { return T(f(s)); }; };
      if (t.dtype == "F16") return convert(std::uint16_t{}, from16(detail::f16_to_f32));
      if (t.dtype == "BF16") return convert(std::uint16_t{}, from16(detail::bf16_to_f32));
      wrong_dtype(t, std::is_same_v<T, float> ? "read_f32" : "read_f64", "F32, F64, F16, BF16");
    }
  }

  [[noreturn]] void wrong_dtype(const TensorInfo& t, const char* op, const char* accepted) const {
    throw error("safetensors '" + source_ + "': " + op + " of tensor '" + t.name + "': dtype " +
                t.dtype + " is not one of " + accepted);
  }

  void parse(std::span<const std::byte> file, std::string source) {
    source_ = std::move(source);
    const std::string prefix = "safetensors '" + source_ + "': ";
    const auto fail = [&](const std::string& what) { throw error(prefix + what); };

    if (file.size() < 8)
      fail("file is " + std::to_string(file.size()) +
           " bytes, shorter than the 8-byte header length");
    std::uint64_t header_len = 0;
    std::memcpy(&header_len, file.data(), 8);
    if (header_len > max_header_bytes)
      fail("header length " + std::to_string(header_len) + " exceeds the limit of " +
           std::to_string(max_header_bytes) + " bytes");
    if (header_len > file.size() - 8)
      fail("header length " + std::to_string(header_len) + " exceeds the " +
           std::to_string(file.size() - 8) + " bytes after the length field");

    const char* json_begin = reinterpret_cast<const char*>(file.data() + 8);
    detail::SafetensorsHeaderParser handler(prefix, tensors_, metadata_);
    nlohmann::json::sax_parse(json_begin, json_begin + header_len, &handler);
    if (!handler.finished()) fail("incomplete JSON header");
    data_ = file.subspan(8 + static_cast<std::size_t>(header_len));

    for (std::size_t i = 0; i < tensors_.size(); ++i) {
      const TensorInfo& t = tensors_[i];
      const std::string what = "tensor '" + t.name + "' ";
      index_.emplace(t.name, i);
      const std::size_t elem = safetensors_dtype_size(t.dtype);
      if (elem == 0) fail(what + "has unknown dtype '" + t.dtype + "'");
      std::size_t nbytes = elem;
      for (std::int64_t d : t.shape)
        if (__builtin_mul_overflow(nbytes, static_cast<std::size_t>(d), &nbytes))
          fail(what + "shape " + detail::shape_text(t.shape) + " overflows the element count");
      if (t.end < t.begin)
        fail(what + "data_offsets " + detail::offsets_text(t) + " end before they begin");
      if (t.end > data_.size())
        fail(what + "data_offsets " + detail::offsets_text(t) + " extend past the " +
             std::to_string(data_.size()) + " bytes of data");
      if (t.end - t.begin != nbytes)
        fail(what + "(" + t.dtype + ", shape " + detail::shape_text(t.shape) + ") needs " +
             std::to_string(nbytes) + " bytes, data_offsets " + detail::offsets_text(t) +
             " hold " + std::to_string(t.end - t.begin));
    }

    // The data section must be exactly the tensors laid end to end, in some order.
    std::vector<const TensorInfo*> by_offset;
    for (const TensorInfo& t : tensors_) by_offset.push_back(&t);
    std::sort(by_offset.begin(), by_offset.end(), [](const TensorInfo* a, const TensorInfo* b) {
      return std::pair(a->begin, a->end) < std::pair(b->begin, b->end);
    });
    std::size_t cursor = 0;
    const TensorInfo* previous = nullptr;
    for (const TensorInfo* t : by_offset) {
      if (t->begin < cursor)
        fail("tensors '" + previous->name + "' " + detail::offsets_text(*previous) + " and '" +
             t->name + "' " + detail::offsets_text(*t) + " overlap");
      if (t->begin > cursor)
        fail("gap of " + std::to_string(t->begin - cursor) + " bytes before tensor '" + t->name +
             "' " + detail::offsets_text(*t));
      cursor = t->end;
      previous = t;
    }
    if (cursor != data_.size())
      fail(std::to_string(data_.size() - cursor) + " trailing bytes after the last tensor");
  }

  std::vector<std::byte> storage_;
  std::span<const std::byte> data_;
  std::string source_;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, std::size_t, std::less<>> index_;
  std::map<std::string, std::string> metadata_;
};

// Collects tensors and writes them as one safetensors file: header padded with spaces to a multiple
// of 8 bytes, `__metadata__` first ({"format": "pt"} plus the user's keys), then the tensors in the
// order they were added.
class SafetensorsWriter {
 public:
  void add(std::string name, std::span<const float> v, std::vector<std::int64_t> shape) {
    add_raw(std::move(name), "F32", std::move(shape), std::as_bytes(v));
  }
  void add(std::string name, std::span<const double> v, std::vector<std::int64_t> shape) {
    add_raw(std::move(name), "F64", std::move(shape), std::as_bytes(v));
  }
  void add(std::string name, std::span<const std::int64_t> v, std::vector<std::int64_t> shape) {
    add_raw(std::move(name), "I64", std::move(shape), std::as_bytes(v));
  }
  void add(std::string name, std::span<const std::int32_t> v, std::vector<std::int64_t> shape) {
    add_raw(std::move(name), "I32", std::move(shape), std::as_bytes(v));
  }

  // Any dtype, as little-endian bytes.
  void add_raw(std::string name, std::string dtype, std::vector<std::int64_t> shape,
               std::span<const std::byte> bytes) {
    const std::string what = "SafetensorsWriter: tensor '" + name + "' ";
    if (name == "__metadata__") throw error(what + "has a reserved name");
    for (const TensorInfo& t : tensors_)
      if (t.name == name) throw error(what + "was already added");
    const std::size_t elem = safetensors_dtype_size(dtype);
    if (elem == 0) throw error(what + "has unknown dtype '" + dtype + "'");
    std::size_t nbytes = elem;
    for (std::int64_t d : shape)
      if (d < 0 || __builtin_mul_overflow(nbytes, static_cast<std::size_t>(d), &nbytes))
        throw error(what + "has invalid shape " + detail::shape_text(shape));
    if (bytes.size() != nbytes)
      throw error(what + "(" + dtype + ", shape " + detail::shape_text(shape) + ") needs " +
                  std::to_string(nbytes / elem) + " elements, got " +
                  std::to_string(bytes.size() / elem));
    const std::size_t begin = data_.size();
    data_.insert(data_.end(), bytes.begin(), bytes.end());
    tensors_.push_back(TensorInfo{std::move(name), std::move(dtype), std::move(shape), begin,
                                  data_.size()});
  }

  void set_metadata(const std::string& key, std::string value) {
    for (auto& [k, v] : metadata_)
      if (k == key) {
        v = std::move(value);
        return;
      }
    metadata_.emplace_back(key, std::move(value));
  }

  // The file's bytes: length, padded header, data.
  std::vector<std::byte> to_bytes() const {
    const std::string header = padded_header();
    std::vector<std::byte> out(8 + header.size() + data_.size());
    const std::uint64_t n = header.size();
    std::memcpy(out.data(), &n, 8);
    std::memcpy(out.data() + 8, header.data(), header.size());
    if (!data_.empty()) std::memcpy(out.data() + 8 + header.size(), data_.data(), data_.size());
    return out;
  }

  // Atomic: readers of `path` see the old file or the complete new one (write_file_atomic).
  void write(const std::string& path) const {
    const std::string header = padded_header();
    const std::uint64_t n = header.size();
    const std::span<const std::byte> parts[] = {
        std::as_bytes(std::span(&n, 1)), std::as_bytes(std::span(header)), data_};
    write_file_atomic(path, parts);
  }

 private:
  // Written by hand rather than with nlohmann's serializer: it saves a second JSON instantiation
  // (about a second of compile time) in every TU that saves tensors.
  std::string padded_header() const {
    using detail::json_quote;
    std::string s = "{\"__metadata__\":{";
    for (std::size_t i = 0; i < metadata_.size(); ++i) {
      const auto& [k, v] = metadata_[i];
      s += (i ? "," : "") + json_quote(k, "SafetensorsWriter: metadata key") + ":" +
           json_quote(v, "SafetensorsWriter: metadata value of '" + k + "'");
    }
    s += "}";
    for (const TensorInfo& t : tensors_) {
      s += "," + json_quote(t.name, "SafetensorsWriter: tensor name '" + t.name + "'") +
           ":{\"dtype\":\"" + t.dtype + "\",\"shape\":[";
      for (std::size_t i = 0; i < t.shape.size(); ++i)
        s += (i ? "," : "") + std::to_string(t.shape[i]);
      s += "],\"data_offsets\":[" + std::to_string(t.begin) + "," + std::to_string(t.end) + "]}";
    }
    s += "}";
    s.append((8 - s.size() % 8) % 8, ' ');
    return s;
  }

  std::vector<std::pair<std::string, std::string>> metadata_{{"format", "pt"}};
  std::vector<TensorInfo> tensors_;
  std::vector<std::byte> data_;
};

}  // namespace mae
