#pragma once
// SafetensorsView: a read-only view of safetensors bytes already in memory (a file placed in flash, a
// constant array from mae_to_header) for the embedded path: no allocation, no exceptions, no copy.
// It checks what a reader relies on: the 8-byte length, the header's JSON syntax (strict: UTF-8, escapes,
// integers only where the format wants them), every entry's dtype, rank, shape and data_offsets against
// the data section, and that the tensors add up to the data section. Tensors are found by scanning the
// header (no index to allocate); a name found twice is reported. Unlike the host reader (SafetensorsFile)
// it does not look for overlapping ranges beyond the size check, nor for duplicates among names it is
// never asked for.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "mae/models/static_status.hpp"

namespace mae::embedded {

enum class Dtype : std::uint8_t { unknown, BOOL, U8, I8, F8_E5M2, F8_E4M3, I16, U16, F16, BF16, I32, U32, F32, I64, U64, F64 };

struct TensorView {
  static constexpr std::size_t max_rank = 8;
  Dtype dtype = Dtype::unknown;
  std::size_t rank = 0;
  std::uint64_t shape[max_rank] = {};
  const std::byte* data = nullptr;
  std::size_t bytes = 0;
};

namespace detail {

struct DtypeName {
  std::string_view name;
  Dtype dtype;
  std::size_t size;
};
inline constexpr DtypeName dtype_names[] = {
    {"BOOL", Dtype::BOOL, 1}, {"U8", Dtype::U8, 1},   {"I8", Dtype::I8, 1},   {"F8_E5M2", Dtype::F8_E5M2, 1},
    {"F8_E4M3", Dtype::F8_E4M3, 1}, {"I16", Dtype::I16, 2}, {"U16", Dtype::U16, 2}, {"F16", Dtype::F16, 2},
    {"BF16", Dtype::BF16, 2}, {"I32", Dtype::I32, 4}, {"U32", Dtype::U32, 4}, {"F32", Dtype::F32, 4},
    {"I64", Dtype::I64, 8},   {"U64", Dtype::U64, 8}, {"F64", Dtype::F64, 8}};

constexpr int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The code unit of the \uXXXX at raw[i] (raw[i] == 'u'), or -1.
constexpr long hex4(std::string_view raw, std::size_t i) noexcept {
  if (raw.size() - i < 5) return -1;
  long v = 0;
  for (std::size_t k = 1; k <= 4; ++k) {
    const int h = hex_value(raw[i + k]);
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

constexpr std::size_t utf8_encode(std::uint32_t cp, char out[4]) noexcept {
  if (cp < 0x80) { out[0] = static_cast<char>(cp); return 1; }
  if (cp < 0x800) {
    out[0] = static_cast<char>(0xC0 | (cp >> 6));
    out[1] = static_cast<char>(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = static_cast<char>(0xE0 | (cp >> 12));
    out[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out[2] = static_cast<char>(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = static_cast<char>(0xF0 | (cp >> 18));
  out[1] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
  out[2] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
  out[3] = static_cast<char>(0x80 | (cp & 0x3F));
  return 4;
}

// Decodes the escape sequence at raw[i] (a backslash) into UTF-8 bytes; advances i past it.
// Returns 0 for an invalid escape (a lone or misordered surrogate included).
constexpr std::size_t decode_escape(std::string_view raw, std::size_t& i, char out[4]) noexcept {
  if (raw.size() - i < 2) return 0;
  const char c = raw[i + 1];
  i += 2;
  switch (c) {
    case '"': out[0] = '"'; return 1;
    case '\\': out[0] = '\\'; return 1;
    case '/': out[0] = '/'; return 1;
    case 'b': out[0] = '\b'; return 1;
    case 'f': out[0] = '\f'; return 1;
    case 'n': out[0] = '\n'; return 1;
    case 'r': out[0] = '\r'; return 1;
    case 't': out[0] = '\t'; return 1;
    case 'u': break;
    default: return 0;
  }
  const long hi = hex4(raw, i - 1);
  if (hi < 0 || (hi >= 0xDC00 && hi <= 0xDFFF)) return 0;
  i += 4;
  if (hi < 0xD800 || hi > 0xDBFF) return utf8_encode(static_cast<std::uint32_t>(hi), out);
  if (raw.size() - i < 6 || raw[i] != '\\' || raw[i + 1] != 'u') return 0;
  const long lo = hex4(raw, i + 1);
  if (lo < 0xDC00 || lo > 0xDFFF) return 0;
  i += 6;
  return utf8_encode(0x10000 + ((static_cast<std::uint32_t>(hi) - 0xD800) << 10) + (static_cast<std::uint32_t>(lo) - 0xDC00),
                     out);
}

// Length of the well-formed UTF-8 sequence at s[i] (a byte >= 0x80), or 0: no overlong forms, no
// surrogates, nothing above U+10FFFF.
constexpr std::size_t utf8_sequence(std::string_view s, std::size_t i) noexcept {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const auto cont = [&](std::size_t k) { return i + k < s.size() && (b(k) & 0xC0) == 0x80; };
  const unsigned char c = b(0);
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if (c == 0xE0 && b(1) < 0xA0) return 0;   // overlong
    if (c == 0xED && b(1) >= 0xA0) return 0;  // surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xF0 && b(1) < 0x90) return 0;   // overlong
    if (c == 0xF4 && b(1) >= 0x90) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

// Whether the raw (still escaped) JSON string content equals `plain`.
constexpr bool json_string_equals(std::string_view raw, std::string_view plain) noexcept {
  std::size_t i = 0, j = 0;
  while (i < raw.size()) {
    char unit[4] = {};
    std::size_t n = 1;
    if (raw[i] == '\\')
      n = decode_escape(raw, i, unit);
    else
      unit[0] = raw[i++];
    if (n == 0 || plain.size() - j < n) return false;
    for (std::size_t k = 0; k < n; ++k)
      if (plain[j + k] != unit[k]) return false;
    j += n;
  }
  return j == plain.size();
}

// A cursor over the header's JSON. Every parse function returns false on malformed input.
struct JsonCursor {
  std::string_view text;
  std::size_t pos = 0;

  void skip_ws() noexcept {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t' || text[pos] == '\n' || text[pos] == '\r')) ++pos;
  }
  bool consume(char c) noexcept {
    skip_ws();
    if (pos < text.size() && text[pos] == c) {
      ++pos;
      return true;
    }
    return false;
  }
  bool at_end() noexcept {
    skip_ws();
    return pos == text.size();
  }

  // A string; `raw` receives its content between the quotes, escapes not decoded.
  bool string(std::string_view& raw) noexcept {
    if (!consume('"')) return false;
    const std::size_t begin = pos;
    while (pos < text.size()) {
      const auto c = static_cast<unsigned char>(text[pos]);
      if (c == '"') {
        raw = text.substr(begin, pos - begin);
        ++pos;
        return true;
      }
      if (c < 0x20) return false;
      if (c == '\\') {
        char unit[4];
        if (decode_escape(text, pos, unit) == 0) return false;
      } else if (c >= 0x80) {
        const std::size_t n = utf8_sequence(text, pos);
        if (n == 0) return false;
        pos += n;
      } else {
        ++pos;
      }
    }
    return false;
  }

  // A non-negative integer up to 2^63 - 1, without sign, fraction, exponent or leading zeros.
  bool uint(std::uint64_t& v) noexcept {
    skip_ws();
    const std::size_t begin = pos;
    v = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      const auto digit = static_cast<std::uint64_t>(text[pos] - '0');
      if (v > (0x7FFFFFFFFFFFFFFFull - digit) / 10) return false;
      v = v * 10 + digit;
      ++pos;
    }
    if (pos == begin || (pos - begin > 1 && text[begin] == '0')) return false;
    // The next character must end the number (a '.', 'e' or '-' would make it a non-integer).
    return pos == text.size() || (text[pos] != '.' && text[pos] != 'e' && text[pos] != 'E' && text[pos] != '-');
  }
};

// `"__metadata__"`'s value: an object of strings (or, tolerated, a single string).
inline bool skip_metadata(JsonCursor& c) noexcept {
  std::string_view s;
  c.skip_ws();
  if (c.pos < c.text.size() && c.text[c.pos] == '"') return c.string(s);
  if (!c.consume('{')) return false;
  if (c.consume('}')) return true;
  do {
    if (!c.string(s) || !c.consume(':') || !c.string(s)) return false;
  } while (c.consume(','));
  return c.consume('}');
}

// One tensor entry {"dtype": ..., "shape": [...], "data_offsets": [begin, end]}, checked against the data section.
inline Status parse_tensor(JsonCursor& c, const std::byte* data, std::size_t data_size, TensorView& t) noexcept {
  if (!c.consume('{')) return Status::header_invalid;
  enum : unsigned { has_dtype = 1, has_shape = 2, has_offsets = 4 };
  unsigned seen = 0;
  std::uint64_t begin = 0, end = 0;
  std::size_t elem = 0;
  t = TensorView{};
  if (c.consume('}')) return Status::header_invalid;
  do {
    std::string_view key;
    if (!c.string(key) || !c.consume(':')) return Status::header_invalid;
    if (json_string_equals(key, "dtype") && !(seen & has_dtype)) {
      seen |= has_dtype;
      std::string_view name;
      if (!c.string(name)) return Status::header_invalid;
      for (const DtypeName& d : dtype_names)
        if (json_string_equals(name, d.name)) {
          t.dtype = d.dtype;
          elem = d.size;
        }
      if (t.dtype == Dtype::unknown) return Status::header_invalid;
    } else if (json_string_equals(key, "shape") && !(seen & has_shape)) {
      seen |= has_shape;
      if (!c.consume('[')) return Status::header_invalid;
      if (!c.consume(']')) {
        do {
          std::uint64_t d = 0;
          if (!c.uint(d)) return Status::header_invalid;
          if (t.rank == TensorView::max_rank) return Status::rank_too_large;
          t.shape[t.rank++] = d;
        } while (c.consume(','));
        if (!c.consume(']')) return Status::header_invalid;
      }
    } else if (json_string_equals(key, "data_offsets") && !(seen & has_offsets)) {
      seen |= has_offsets;
      if (!c.consume('[') || !c.uint(begin) || !c.consume(',') || !c.uint(end) || !c.consume(']'))
        return Status::header_invalid;
    } else {
      return Status::header_invalid;  // an unknown or repeated field
    }
  } while (c.consume(','));
  if (!c.consume('}') || seen != (has_dtype | has_shape | has_offsets)) return Status::header_invalid;

  std::uint64_t nbytes = elem;
  for (std::size_t i = 0; i < t.rank; ++i)
    if (__builtin_mul_overflow(nbytes, t.shape[i], &nbytes)) return Status::tensor_size_mismatch;
  if (end < begin || end > data_size) return Status::tensor_out_of_bounds;
  if (end - begin != nbytes) return Status::tensor_size_mismatch;
  t.data = data + begin;
  t.bytes = static_cast<std::size_t>(nbytes);
  return Status::ok;
}

}  // namespace detail

class SafetensorsView {
 public:
  static constexpr std::size_t max_header_bytes = 100'000'000;

  // Checks `bytes` and keeps a view of them: they must outlive this object.
  Status open(const void* bytes, std::size_t size) noexcept {
    *this = SafetensorsView{};
    if (size < 8) return Status::file_too_short;
    const auto* b = static_cast<const unsigned char*>(bytes);
    std::uint64_t header_len = 0;  // little-endian whatever the host
    for (int i = 7; i >= 0; --i) header_len = header_len << 8 | b[i];
    if (header_len > max_header_bytes) return Status::header_too_long;
    if (header_len > size - 8) return Status::file_too_short;
    SafetensorsView v;
    v.header_ = std::string_view(reinterpret_cast<const char*>(b + 8), static_cast<std::size_t>(header_len));
    v.data_ = static_cast<const std::byte*>(bytes) + 8 + header_len;
    v.data_size_ = size - 8 - static_cast<std::size_t>(header_len);
    std::size_t covered = 0;
    MAE_RETURN_IF_ERROR(v.for_each_tensor([&](std::string_view, const TensorView& t) noexcept {
      ++v.count_;
      covered += t.bytes;  // each term <= data_size_: no overflow before the comparison below fails
      return covered <= v.data_size_ ? Status::ok : Status::data_size_mismatch;
    }));
    if (covered != v.data_size_) return Status::data_size_mismatch;
    *this = v;
    return Status::ok;
  }

  bool is_open() const noexcept { return data_ != nullptr; }
  std::size_t tensor_count() const noexcept { return count_; }
  const std::byte* data() const noexcept { return data_; }
  std::size_t data_size() const noexcept { return data_size_; }

  // The tensor called `name` (compared after JSON unescaping).
  Status find(std::string_view name, TensorView& out) const noexcept {
    if (!is_open()) return Status::not_ready;
    std::size_t matches = 0;
    MAE_RETURN_IF_ERROR(for_each_tensor([&](std::string_view key, const TensorView& t) noexcept {
      if (detail::json_string_equals(key, name)) {
        ++matches;
        out = t;
      }
      return Status::ok;
    }));
    if (matches == 0) return Status::tensor_missing;
    return matches == 1 ? Status::ok : Status::tensor_duplicate;
  }

  // f(raw_name, TensorView) -> Status for every tensor in header order; stops at the first error.
  template <class F>
  Status for_each_tensor(F&& f) const noexcept {
    detail::JsonCursor c{header_};
    if (!c.consume('{')) return Status::header_invalid;
    if (!c.consume('}')) {
      do {
        std::string_view key;
        if (!c.string(key) || !c.consume(':')) return Status::header_invalid;
        if (detail::json_string_equals(key, "__metadata__")) {
          if (!detail::skip_metadata(c)) return Status::header_invalid;
          continue;
        }
        TensorView t;
        MAE_RETURN_IF_ERROR(detail::parse_tensor(c, data_, data_size_, t));
        MAE_RETURN_IF_ERROR(f(key, t));
      } while (c.consume(','));
      if (!c.consume('}')) return Status::header_invalid;
    }
    return c.at_end() ? Status::ok : Status::header_invalid;
  }

 private:
  std::string_view header_;
  const std::byte* data_ = nullptr;
  std::size_t data_size_ = 0, count_ = 0;
};

}  // namespace mae::embedded
