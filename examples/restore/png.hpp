#pragma once
// A small PNG reader and writer on top of zlib (Debian: zlib1g-dev), enough for the restoration example:
// reads 8-bit grey, grey+alpha, RGB and RGBA non-interlaced images (all five row filters) into RGB;
// writes 8-bit RGB with per-row adaptive filters and zlib compression.
#include <zlib.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

namespace restore {

/// An 8-bit RGB image, row-major, interleaved (r, g, b).
struct rgb_image {
    int width = 0;
    int height = 0;
    std::vector<std::uint8_t> pixels;  // width · height · 3
};

namespace png_detail {

inline constexpr std::array<std::uint8_t, 8> signature{137, 80, 78, 71, 13, 10, 26, 10};

inline std::uint32_t read_be32(const std::uint8_t* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}
inline void append_be32(std::vector<std::uint8_t>& out, std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}
inline std::uint8_t paeth(int a, int b, int c) {
    const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
    if (pa <= pb && pa <= pc) return static_cast<std::uint8_t>(a);
    return static_cast<std::uint8_t>(pb <= pc ? b : c);
}
inline void append_chunk(std::vector<std::uint8_t>& out, const char type[4], const std::vector<std::uint8_t>& data) {
    append_be32(out, static_cast<std::uint32_t>(data.size()));
    const std::size_t start = out.size();
    out.insert(out.end(), type, type + 4);
    out.insert(out.end(), data.begin(), data.end());
    uLong crc = crc32(0L, Z_NULL, 0);
    crc = crc32(crc, out.data() + start, static_cast<uInt>(out.size() - start));
    append_be32(out, static_cast<std::uint32_t>(crc));
}

}  // namespace png_detail

/// Reads a PNG file into RGB. Throws std::runtime_error naming the file for anything unsupported.
inline rgb_image read_png(const std::string& path) {
    using namespace png_detail;
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open " + path);
    const std::vector<std::uint8_t> file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto fail = [&path](const std::string& why) { throw std::runtime_error(path + ": " + why); };
    if (file.size() < 8 || !std::equal(signature.begin(), signature.end(), file.begin())) fail("not a PNG file");
    std::size_t pos = 8;
    int width = 0, height = 0, channels = 0;
    std::vector<std::uint8_t> compressed;
    bool end = false;
    while (!end) {
        if (pos + 12 > file.size()) fail("truncated chunk");
        const std::uint32_t length = read_be32(&file[pos]);
        const std::string type(reinterpret_cast<const char*>(&file[pos + 4]), 4);
        const std::uint8_t* data = &file[pos + 8];
        if (pos + 12 + length > file.size()) fail("truncated chunk " + type);
        if (type == "IHDR") {
            width = static_cast<int>(read_be32(data));
            height = static_cast<int>(read_be32(data + 4));
            const int depth = data[8], colour = data[9], interlace = data[12];
            if (depth != 8) fail("only 8-bit PNG is supported, got bit depth " + std::to_string(depth));
            if (interlace != 0) fail("interlaced PNG is not supported");
            switch (colour) {
                case 0: channels = 1; break;
                case 2: channels = 3; break;
                case 4: channels = 2; break;
                case 6: channels = 4; break;
                default: fail("unsupported PNG colour type " + std::to_string(colour));
            }
        } else if (type == "IDAT") {
            compressed.insert(compressed.end(), data, data + length);
        } else if (type == "IEND") {
            end = true;
        }
        pos += 12 + length;
    }
    if (width <= 0 || height <= 0 || channels == 0) fail("missing or invalid IHDR");
    const std::size_t stride = static_cast<std::size_t>(width) * static_cast<std::size_t>(channels);
    std::vector<std::uint8_t> raw((stride + 1) * static_cast<std::size_t>(height));
    uLongf raw_size = static_cast<uLongf>(raw.size());
    if (uncompress(raw.data(), &raw_size, compressed.data(), static_cast<uLong>(compressed.size())) != Z_OK ||
        raw_size != raw.size())
        fail("corrupt image data");
    std::vector<std::uint8_t> img(stride * static_cast<std::size_t>(height));
    for (int y = 0; y < height; ++y) {
        const std::uint8_t filter = raw[static_cast<std::size_t>(y) * (stride + 1)];
        const std::uint8_t* src = &raw[static_cast<std::size_t>(y) * (stride + 1) + 1];
        std::uint8_t* row = &img[static_cast<std::size_t>(y) * stride];
        const std::uint8_t* up = y > 0 ? row - stride : nullptr;
        for (std::size_t i = 0; i < stride; ++i) {
            const int a = i >= static_cast<std::size_t>(channels) ? row[i - static_cast<std::size_t>(channels)] : 0;
            const int b = up ? up[i] : 0;
            const int c = (up && i >= static_cast<std::size_t>(channels)) ? up[i - static_cast<std::size_t>(channels)] : 0;
            int v = src[i];
            switch (filter) {
                case 0: break;
                case 1: v += a; break;
                case 2: v += b; break;
                case 3: v += (a + b) / 2; break;
                case 4: v += paeth(a, b, c); break;
                default: fail("invalid row filter " + std::to_string(filter));
            }
            row[i] = static_cast<std::uint8_t>(v);
        }
    }
    rgb_image out{width, height, std::vector<std::uint8_t>(static_cast<std::size_t>(width) * height * 3)};
    for (std::size_t p = 0; p < static_cast<std::size_t>(width) * height; ++p) {
        const std::uint8_t* s = &img[p * static_cast<std::size_t>(channels)];
        for (int k = 0; k < 3; ++k) out.pixels[p * 3 + k] = channels >= 3 ? s[k] : s[0];
    }
    return out;
}

/// Writes an 8-bit RGB PNG. Throws std::runtime_error if the file cannot be written.
inline void write_png(const std::string& path, const rgb_image& image) {
    using namespace png_detail;
    const std::size_t stride = static_cast<std::size_t>(image.width) * 3;
    std::vector<std::uint8_t> raw;
    raw.reserve((stride + 1) * static_cast<std::size_t>(image.height));
    // Per row, the filter (0 none, 1 sub, 2 up, 3 average, 4 Paeth) with the smallest sum of |filtered
    // byte| as a signed value: the usual heuristic, which makes photographs compress far better.
    std::array<std::vector<std::uint8_t>, 5> candidate;
    for (auto& c : candidate) c.resize(stride);
    for (int y = 0; y < image.height; ++y) {
        const std::uint8_t* row = &image.pixels[static_cast<std::size_t>(y) * stride];
        const std::uint8_t* up = y > 0 ? row - stride : nullptr;
        int best = 0;
        long best_cost = -1;
        for (int f = 0; f < 5; ++f) {
            long cost = 0;
            for (std::size_t i = 0; i < stride; ++i) {
                const int a = i >= 3 ? row[i - 3] : 0, b = up ? up[i] : 0, c = (up && i >= 3) ? up[i - 3] : 0;
                const int predictor = f == 0 ? 0 : f == 1 ? a : f == 2 ? b : f == 3 ? (a + b) / 2 : paeth(a, b, c);
                const auto v = static_cast<std::uint8_t>(row[i] - predictor);
                candidate[static_cast<std::size_t>(f)][i] = v;
                cost += v < 128 ? v : 256 - v;
            }
            if (best_cost < 0 || cost < best_cost) {
                best_cost = cost;
                best = f;
            }
        }
        raw.push_back(static_cast<std::uint8_t>(best));
        raw.insert(raw.end(), candidate[static_cast<std::size_t>(best)].begin(), candidate[static_cast<std::size_t>(best)].end());
    }
    uLongf size = compressBound(static_cast<uLong>(raw.size()));
    std::vector<std::uint8_t> compressed(size);
    if (compress2(compressed.data(), &size, raw.data(), static_cast<uLong>(raw.size()), 9) != Z_OK)
        throw std::runtime_error("zlib compression failed for " + path);
    compressed.resize(size);
    std::vector<std::uint8_t> header;
    append_be32(header, static_cast<std::uint32_t>(image.width));
    append_be32(header, static_cast<std::uint32_t>(image.height));
    header.insert(header.end(), {8, 2, 0, 0, 0});  // 8-bit RGB, deflate, filter method 0, no interlace
    std::vector<std::uint8_t> file(signature.begin(), signature.end());
    append_chunk(file, "IHDR", header);
    append_chunk(file, "IDAT", compressed);
    append_chunk(file, "IEND", {});
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(file.data()), static_cast<std::streamsize>(file.size()));
    if (!out) throw std::runtime_error("cannot write " + path);
}

}  // namespace restore
