/* SPDX-License-Identifier: MIT */
/*
 * Dear ImGui's draw lists rasterized by the CPU. ImGui draws almost
 * everything as axis-aligned quads — solid rects, and glyphs one texel
 * per pixel — so those are found and filled as spans; the rest (rounded
 * corners, anti-aliased edges, plot lines) goes through a plain
 * edge-function triangle rasterizer. Colours are blended premultiplied,
 * as ImGui's GL backend blends them. A redraw draws again only the tiles
 * whose primitives changed since the last one: most of the panels stay.
 */
#include "ui/overlay_renderer.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <span>

#include <imgui.h>

namespace comp {

namespace {

/* x / 255, rounded, for x up to 255 * 255. */
inline uint32_t div255(uint32_t x)
{
	x += 128;
	return (x + (x >> 8)) >> 8;
}

/* ImGui's IM_COL32 order: R in the low byte. */
struct Colour {
	uint32_t r, g, b, a;

	static Colour of(ImU32 c)
	{
		return { c & 0xff, (c >> 8) & 0xff, (c >> 16) & 0xff, c >> 24 };
	}
};

/* A colour premultiplied by its alpha, ready to blend. */
struct Premultiplied {
	uint32_t r, g, b, a;

	/* colour with its alpha scaled by coverage (0..255). */
	Premultiplied(const Colour &c, uint32_t coverage) : a(div255(c.a * coverage))
	{
		r = div255(c.r * a);
		g = div255(c.g * a);
		b = div255(c.b * a);
	}

	uint32_t opaquePixel() const { return 0xff000000u | r << 16 | g << 8 | b; }

	uint32_t pixel() const { return a << 24 | r << 16 | g << 8 | b; }

	/* Source over *dst. */
	void over(uint32_t *dst) const
	{
		if (a == 255)
			*dst = opaquePixel();
		else
			*dst = pixel() + scaled(*dst, 255 - a);
	}

	/*
	 * Each channel of d times keep / 255, rounded as div255() rounds,
	 * two channels to a multiply: no product of 8-bit values carries
	 * into the next channel's 16 bits.
	 */
	static uint32_t scaled(uint32_t d, uint32_t keep)
	{
		uint32_t rb = (d & 0x00ff00ffu) * keep + 0x00800080u;
		rb = ((rb + ((rb >> 8) & 0x00ff00ffu)) >> 8) & 0x00ff00ffu;
		uint32_t ag = ((d >> 8) & 0x00ff00ffu) * keep + 0x00800080u;
		ag = (ag + ((ag >> 8) & 0x00ff00ffu)) & 0xff00ff00u;
		return ag | rb;
	}
};

/*
 * Two triangles (a b c) (a c d) as ImGui's PrimRect and PrimRectUV emit
 * them, or as it draws a line without anti-aliasing: an axis-aligned
 * rect of one colour, texture mapped along the axes. Decided from the
 * vertices alone, so a tile drawn alone splits a list as a whole redraw does.
 */
bool isQuad(const ImDrawVert *v, const ImDrawIdx *idx)
{
	if (idx[3] != idx[0] || idx[4] != idx[2])
		return false;
	const ImDrawVert &a = v[idx[0]], &b = v[idx[1]], &c = v[idx[2]], &d = v[idx[5]];
	if (a.col != b.col || a.col != c.col || a.col != d.col)
		return false;
	/*
	 * Coordinates compared as bits, which are equal when the floats are
	 * (but for -0 against 0, which costs only the quad's fast path):
	 * integer compares, for the thousands of glyphs of a redraw.
	 */
	auto same = [](float x, float y) {
		return std::bit_cast<uint32_t>(x) == std::bit_cast<uint32_t>(y);
	};
	/* a b along x, then b c along y; texture coordinates along the same axes. */
	if (same(a.pos.y, b.pos.y) && same(b.pos.x, c.pos.x) && same(c.pos.y, d.pos.y) &&
	    same(d.pos.x, a.pos.x) && same(a.uv.y, b.uv.y) && same(b.uv.x, c.uv.x) &&
	    same(c.uv.y, d.uv.y) && same(d.uv.x, a.uv.x))
		return true;
	/* a b along y: how a line along the grid comes, of one texel throughout. */
	return same(a.pos.x, b.pos.x) && same(b.pos.y, c.pos.y) && same(c.pos.x, d.pos.x) &&
	       same(d.pos.y, a.pos.y) && same(a.uv.x, b.uv.x) && same(a.uv.x, c.uv.x) &&
	       same(a.uv.x, d.uv.x) && same(a.uv.y, b.uv.y) && same(a.uv.y, c.uv.y) &&
	       same(a.uv.y, d.uv.y);
}

/* A quad (6 indices) or a triangle (3) of a draw command, within clip. */
struct Primitive {
	const ImDrawVert *vertices;
	const ImDrawIdx *idx;
	bool quad;
	int clip[4];
	uint64_t clipHash;
	/* The pixels it may touch: x0, y0, x1, y1, within clip. */
	int box[4];
};

/* Blends colour, its alpha scaled by coverage (0..255), over *dst. */
inline void blend(uint32_t *dst, const Colour &c, uint32_t coverage)
{
	if (coverage == 0 || c.a == 0)
		return;
	Premultiplied(c, coverage).over(dst);
}

class Raster
{
public:
	Raster(std::vector<uint32_t> &pixels, int width, int height, const uint8_t *font,
	       int fontWidth, int fontHeight)
		: px_(pixels.data()), width_(width), height_(height), font_(font),
		  fontWidth_(fontWidth), fontHeight_(fontHeight)
	{
	}

	/* p, only where it lies in clip (within its own). */
	void draw(const Primitive &p, const int clip[4]);

private:
	/* Pixel columns or rows whose centres lie in [from, to), clipped to [lo, hi). */
	static void span(float from, float to, int lo, int hi, int &first, int &end)
	{
		first = std::max(lo, int(std::ceil(from - 0.5f)));
		end = std::min(hi, int(std::ceil(to - 0.5f)));
	}

	uint32_t texel(float u, float v) const
	{
		const int x = std::clamp(int(u * float(fontWidth_)), 0, fontWidth_ - 1);
		const int y = std::clamp(int(v * float(fontHeight_)), 0, fontHeight_ - 1);
		return font_[y * fontWidth_ + x];
	}

	void quad(const ImDrawVert *v, const ImDrawIdx *idx, const int clip[4]);
	void triangle(const ImDrawVert &a, const ImDrawVert &b, const ImDrawVert &c,
		      const int clip[4]);

	uint32_t *px_;
	int width_;
	int height_;
	const uint8_t *font_;
	int fontWidth_;
	int fontHeight_;
};

/* A quad isQuad() found, filled as spans. */
void Raster::quad(const ImDrawVert *v, const ImDrawIdx *idx, const int clip[4])
{
	const ImDrawVert &a = v[idx[0]], &c = v[idx[2]];
	const float x0 = std::min(a.pos.x, c.pos.x), x1 = std::max(a.pos.x, c.pos.x);
	const float y0 = std::min(a.pos.y, c.pos.y), y1 = std::max(a.pos.y, c.pos.y);
	int xFirst, xEnd, yFirst, yEnd;
	span(x0, x1, clip[0], clip[2], xFirst, xEnd);
	span(y0, y1, clip[1], clip[3], yFirst, yEnd);
	if (xFirst >= xEnd || yFirst >= yEnd)
		return;
	const Colour colour = Colour::of(a.col);
	/* uv at a pixel centre, from the corner that has the smaller coordinate. */
	const ImDrawVert &left = a.pos.x <= c.pos.x ? a : c, &right = &left == &a ? c : a;
	const ImDrawVert &top = a.pos.y <= c.pos.y ? a : c, &bottom = &top == &a ? c : a;
	const float du = (right.uv.x - left.uv.x) / (x1 - x0);
	const float dv = (bottom.uv.y - top.uv.y) / (y1 - y0);
	if (a.uv.x == c.uv.x && a.uv.y == c.uv.y) {
		/* A solid rect: one colour for all of it. */
		const Premultiplied source(colour, texel(a.uv.x, a.uv.y));
		if (source.a == 0)
			return;
		for (int y = yFirst; y < yEnd; y++) {
			uint32_t *row = px_ + size_t(y) * size_t(width_);
			if (source.a == 255) {
				std::fill(row + xFirst, row + xEnd, source.opaquePixel());
				continue;
			}
			/* One source for the span: a loop the compiler can widen. */
			const uint32_t pixel = source.pixel(), keep = 255 - source.a;
			for (int x = xFirst; x < xEnd; x++)
				row[x] = pixel + Premultiplied::scaled(row[x], keep);
		}
		return;
	}
	const float texelsPerPixelX = du * float(fontWidth_);
	const float texelsPerPixelY = dv * float(fontHeight_);
	/*
	 * A glyph, one texel per pixel, inside the atlas: walk the atlas
	 * alongside, from the texel of its first pixel however it is clipped.
	 */
	int xAll, xAllEnd, yAll, yAllEnd;
	span(x0, x1, INT32_MIN / 2, INT32_MAX / 2, xAll, xAllEnd);
	span(y0, y1, INT32_MIN / 2, INT32_MAX / 2, yAll, yAllEnd);
	const int txAll = int((left.uv.x + (float(xAll) + 0.5f - x0) * du) * float(fontWidth_));
	const int tyAll = int((top.uv.y + (float(yAll) + 0.5f - y0) * dv) * float(fontHeight_));
	if (std::fabs(texelsPerPixelX - 1.0f) < 1e-3f && std::fabs(texelsPerPixelY - 1.0f) < 1e-3f &&
	    txAll >= 0 && tyAll >= 0 && txAll + (xAllEnd - xAll) <= fontWidth_ &&
	    tyAll + (yAllEnd - yAll) <= fontHeight_) {
		const int tx = txAll + (xFirst - xAll), ty = tyAll + (yFirst - yAll);
		/* The text colour premultiplied once; each texel scales all of it. */
		const uint32_t full = Premultiplied(colour, 255).pixel();
		for (int y = yFirst; y < yEnd; y++) {
			uint32_t *row = px_ + size_t(y) * size_t(width_);
			const uint8_t *coverage = font_ + size_t(ty + y - yFirst) * size_t(fontWidth_) +
						  size_t(tx);
			for (int x = xFirst; x < xEnd; x++, coverage++) {
				if (!*coverage)
					continue;
				const uint32_t source = Premultiplied::scaled(full, *coverage);
				row[x] = source + Premultiplied::scaled(row[x], 255 - (source >> 24));
			}
		}
		return;
	}
	for (int y = yFirst; y < yEnd; y++) {
		uint32_t *row = px_ + size_t(y) * size_t(width_);
		const float tv = top.uv.y + (float(y) + 0.5f - y0) * dv;
		for (int x = xFirst; x < xEnd; x++) {
			const float tu = left.uv.x + (float(x) + 0.5f - x0) * du;
			blend(row + x, colour, texel(tu, tv));
		}
	}
}

void Raster::triangle(const ImDrawVert &a, const ImDrawVert &b, const ImDrawVert &c,
		      const int clip[4])
{
	/* Edge function of p against p0 -> p1: positive on one side, the same for all three. */
	auto edge = [](const ImVec2 &p0, const ImVec2 &p1, double x, double y) {
		return (double(p1.x) - p0.x) * (y - p0.y) - (double(p1.y) - p0.y) * (x - p0.x);
	};
	const ImDrawVert *v[3] = { &a, &b, &c };
	double area = edge(a.pos, b.pos, c.pos.x, c.pos.y);
	/* Nothing to fill, or a vertex is not a number. */
	if (!(std::fabs(area) > 0))
		return;
	if (area < 0) {
		std::swap(v[1], v[2]);
		area = -area;
	}
	/*
	 * A pixel centre on an edge belongs to one of the two triangles that
	 * share it: to the one where the edge runs down (or right, if flat).
	 */
	bool owns[3];
	for (int i = 0; i < 3; i++) {
		const ImVec2 &p0 = v[i]->pos, &p1 = v[(i + 1) % 3]->pos;
		owns[i] = p1.y > p0.y || (p1.y == p0.y && p1.x > p0.x);
	}
	const float xs[3] = { v[0]->pos.x, v[1]->pos.x, v[2]->pos.x };
	const float ys[3] = { v[0]->pos.y, v[1]->pos.y, v[2]->pos.y };
	int xFirst, xEnd, yFirst, yEnd;
	span(*std::min_element(xs, xs + 3), *std::max_element(xs, xs + 3) + 1.0f, clip[0],
	     clip[2], xFirst, xEnd);
	span(*std::min_element(ys, ys + 3), *std::max_element(ys, ys + 3) + 1.0f, clip[1],
	     clip[3], yFirst, yEnd);
	const Colour colours[3] = { Colour::of(v[0]->col), Colour::of(v[1]->col),
				    Colour::of(v[2]->col) };
	const bool oneTexel = v[0]->uv.x == v[1]->uv.x && v[0]->uv.x == v[2]->uv.x &&
			      v[0]->uv.y == v[1]->uv.y && v[0]->uv.y == v[2]->uv.y;
	/* Filled polygons are fans of these: one colour and one texel throughout. */
	const bool uniform = oneTexel && v[0]->col == v[1]->col && v[0]->col == v[2]->col;
	const Premultiplied solid(colours[0], uniform ? texel(v[0]->uv.x, v[0]->uv.y) : 0);
	if (uniform && solid.a == 0)
		return;
	/*
	 * Anti-aliased lines are these: one texel, one colour whose alpha
	 * fades to nothing at the fringe. Only alpha is interpolated.
	 */
	const bool fading = oneTexel && !uniform &&
			    (v[0]->col & 0xffffffu) == (v[1]->col & 0xffffffu) &&
			    (v[0]->col & 0xffffffu) == (v[2]->col & 0xffffffu);
	const uint32_t fadingTexel = fading ? texel(v[0]->uv.x, v[0]->uv.y) : 0;

	/* Whether pixel x of the row at py is inside; w gets the vertices' weights. */
	auto inside = [&](int x, double py, double w[3]) {
		const double px = x + 0.5;
		for (int i = 0; i < 3; i++) {
			/* Weight of the vertex opposite edge i. */
			const double e = edge(v[i]->pos, v[(i + 1) % 3]->pos, px, py);
			w[(i + 2) % 3] = e;
			if (!(e > 0 || (e == 0 && owns[i])))
				return false;
		}
		return true;
	};
	const double perArea = 1.0 / area;
	double w[3];
	for (int y = yFirst; y < yEnd; y++) {
		const double py = y + 0.5;
		/* Each edge along the row: edge() is atZero - slope * px. */
		double atZero[3], slope[3];
		for (int i = 0; i < 3; i++) {
			const ImVec2 &p0 = v[i]->pos, &p1 = v[(i + 1) % 3]->pos;
			slope[i] = double(p1.y) - p0.y;
			atZero[i] = (double(p1.x) - p0.x) * (py - p0.y) + slope[i] * p0.x;
		}
		/*
		 * The row's pixels inside lie in one run: bound it edge by edge,
		 * a pixel wider each side against rounding, then find its exact
		 * ends. Thin slanted triangles (plot lines) cover little of their box.
		 */
		int lo = xFirst, hi = xEnd;
		for (int i = 0; i < 3 && lo < hi; i++) {
			if (slope[i] == 0) {
				if (atZero[i] < 0)
					lo = hi;
				continue;
			}
			const double cross = std::clamp(atZero[i] / slope[i], double(xFirst) - 2.0,
							double(xEnd) + 2.0);
			if (slope[i] > 0)
				hi = std::min(hi, int(std::floor(cross - 0.5)) + 2);
			else
				lo = std::max(lo, int(std::ceil(cross - 0.5)) - 1);
		}
		while (lo < hi && !inside(lo, py, w))
			lo++;
		while (hi > lo && !inside(hi - 1, py, w))
			hi--;
		uint32_t *row = px_ + size_t(y) * size_t(width_);
		if (uniform) {
			for (int x = lo; x < hi; x++)
				solid.over(row + x);
			continue;
		}
		if (fading) {
			Colour colour = colours[0];
			for (int x = lo; x < hi; x++) {
				const double px = x + 0.5;
				colour.a = 0;
				/* Edge i weighs the vertex opposite it. */
				for (int i = 0; i < 3; i++) {
					/* Rounded apart from edge(): kept to [0, 1], as inside() found it. */
					const float weight = std::clamp(
						float((atZero[i] - slope[i] * px) * perArea), 0.0f, 1.0f);
					colour.a += uint32_t(float(colours[(i + 2) % 3].a) * weight + 0.5f);
				}
				colour.a = std::min(colour.a, 255u);
				blend(row + x, colour, fadingTexel);
			}
			continue;
		}
		for (int x = lo; x < hi; x++) {
			inside(x, py, w);
			Colour colour{};
			float u = 0, t = 0;
			for (int i = 0; i < 3; i++) {
				const float weight = float(w[i] * perArea);
				colour.r += uint32_t(float(colours[i].r) * weight + 0.5f);
				colour.g += uint32_t(float(colours[i].g) * weight + 0.5f);
				colour.b += uint32_t(float(colours[i].b) * weight + 0.5f);
				colour.a += uint32_t(float(colours[i].a) * weight + 0.5f);
				u += v[i]->uv.x * weight;
				t += v[i]->uv.y * weight;
			}
			colour.r = std::min(colour.r, 255u);
			colour.g = std::min(colour.g, 255u);
			colour.b = std::min(colour.b, 255u);
			colour.a = std::min(colour.a, 255u);
			blend(row + x, colour, texel(u, t));
		}
	}
}

void Raster::draw(const Primitive &p, const int clip[4])
{
	if (p.quad)
		quad(p.vertices, p.idx, clip);
	else
		triangle(p.vertices[p.idx[0]], p.vertices[p.idx[1]], p.vertices[p.idx[2]], clip);
}

/* x toward zero, within a range no overlay reaches: vertices far off stay far off. */
inline int truncated(float x)
{
	constexpr float kFar = 1e6f;
	return x > -kFar ? (x < kFar ? int(x) : int(kFar)) : -int(kFar);
}

/* FNV-1a over 64-bit words: what a tile's primitives were, in their order. */
inline uint64_t mix(uint64_t hash, uint64_t word)
{
	return (hash ^ word) * 0x100000001b3ull;
}

/* The hash of a command's clip, which seeds its primitives' hashes. */
uint64_t hashOfClip(const int clip[4])
{
	uint64_t hash = 0xcbf29ce484222325ull;
	for (int i = 0; i < 4; i++)
		hash = mix(hash, uint64_t(uint32_t(clip[i])));
	return hash;
}

/* What decides p's pixels: a quad's are its opposite corners 0 and 2 (see Raster::quad()). */
uint64_t hashOf(const Primitive &p)
{
	uint64_t hash = p.clipHash;
	static constexpr int kQuadCorners[] = { 0, 2 }, kTriangleCorners[] = { 0, 1, 2 };
	const std::span<const int> corners = p.quad ? std::span<const int>(kQuadCorners)
						    : std::span<const int>(kTriangleCorners);
	for (int i : corners) {
		const ImDrawVert &v = p.vertices[p.idx[i]];
		uint64_t words[3] = {};
		static_assert(sizeof(v.pos) + sizeof(v.uv) + sizeof(v.col) <= sizeof(words));
		std::memcpy(&words[0], &v.pos, sizeof(v.pos));
		std::memcpy(&words[1], &v.uv, sizeof(v.uv));
		std::memcpy(&words[2], &v.col, sizeof(v.col));
		for (uint64_t word : words)
			hash = mix(hash, word);
	}
	return hash;
}

/* Tiles of this many pixels each way: a line of changed text dirties a few. */
constexpr int kTile = 32;

class CpuOverlayRenderer : public OverlayRenderer
{
public:
	explicit CpuOverlayRenderer(bool incremental) : incremental_(incremental) {}

	const std::string &name() const override { return name_; }

	void newFrame() override
	{
		if (font_)
			return;
		ImGuiIO &io = ImGui::GetIO();
		io.Fonts->GetTexDataAsAlpha8(&font_, &fontWidth_, &fontHeight_);
		/* One texture, the font atlas: any id but null names it. */
		io.Fonts->SetTexID(reinterpret_cast<ImTextureID>(intptr_t(1)));
		io.BackendRendererName = "heapcomp-cpu";
	}

	bufmgr::Result<Rect> render(ImDrawData *data, uint32_t width, uint32_t height,
				    const float clear[4], std::vector<uint32_t> &pixels) override
	{
		auto channel = [&](int i) { return uint32_t(std::lround(clear[i] * 255.0f)); };
		const uint32_t background = channel(3) << 24 | channel(0) << 16 | channel(1) << 8 |
					    channel(2);
		const int w = int(width), h = int(height);
		collect(data, w, h);

		/* Each tile's primitives, in drawing order, as a hash. */
		const int tilesX = (w + kTile - 1) / kTile, tilesY = (h + kTile - 1) / kTile;
		std::vector<uint64_t> hashes(size_t(tilesX) * size_t(tilesY), background);
		for (auto &row : rows_)
			row.clear();
		rows_.resize(size_t(tilesY));
		for (size_t i = 0; incremental_ && i < primitives_.size(); i++) {
			const Primitive &p = primitives_[i];
			const uint64_t hash = hashOf(p);
			for (int ty = p.box[1] / kTile; ty <= (p.box[3] - 1) / kTile; ty++) {
				rows_[size_t(ty)].push_back(uint32_t(i));
				for (int tx = p.box[0] / kTile; tx <= (p.box[2] - 1) / kTile; tx++) {
					uint64_t &tile = hashes[size_t(ty) * size_t(tilesX) + size_t(tx)];
					tile = mix(tile, hash);
				}
			}
		}

		/* pixels is the last call's: anything else is drawn whole. */
		const bool whole = !incremental_ || width != lastWidth_ || height != lastHeight_ ||
				   tiles_.size() != hashes.size() || pixels.data() != lastPixels_ ||
				   pixels.size() != size_t(width) * height;
		Rect changed = whole ? Rect{ 0, 0, w, h } : Rect{};
		if (whole)
			pixels.assign(size_t(width) * height, background);
		Raster raster(pixels, w, h, font_, fontWidth_, fontHeight_);
		if (whole) {
			for (const Primitive &p : primitives_)
				raster.draw(p, p.clip);
		} else {
			/* Runs of changed tiles along each row of tiles, drawn again alone. */
			for (int ty = 0; ty < tilesY; ty++) {
				const size_t rowStart = size_t(ty) * size_t(tilesX);
				for (int tx = 0; tx < tilesX;) {
					if (hashes[rowStart + size_t(tx)] == tiles_[rowStart + size_t(tx)]) {
						tx++;
						continue;
					}
					const int first = tx;
					while (tx < tilesX && hashes[rowStart + size_t(tx)] !=
								      tiles_[rowStart + size_t(tx)])
						tx++;
					const int area[4] = { first * kTile, ty * kTile,
							      std::min(w, tx * kTile),
							      std::min(h, (ty + 1) * kTile) };
					redrawArea(raster, pixels.data(), area, background,
						   rows_[size_t(ty)]);
					const Rect run{ area[0], area[1], area[2] - area[0],
							area[3] - area[1] };
					changed = changed.isEmpty() ? run : boundingBox(changed, run);
				}
			}
		}
		tiles_ = std::move(hashes);
		lastWidth_ = width;
		lastHeight_ = height;
		lastPixels_ = pixels.data();
		return changed;
	}

private:
	/* The primitives of data's commands, each with its clip and the pixels it may touch. */
	void collect(ImDrawData *data, int width, int height)
	{
		primitives_.clear();
		for (int i = 0; i < data->CmdListsCount; i++) {
			const ImDrawList &list = *data->CmdLists[i];
			for (const ImDrawCmd &cmd : list.CmdBuffer) {
				if (cmd.UserCallback)
					continue;
				Primitive p{};
				p.clip[0] = std::max(0, int(std::floor(cmd.ClipRect.x)));
				p.clip[1] = std::max(0, int(std::floor(cmd.ClipRect.y)));
				p.clip[2] = std::min(width, int(std::ceil(cmd.ClipRect.z)));
				p.clip[3] = std::min(height, int(std::ceil(cmd.ClipRect.w)));
				if (p.clip[0] >= p.clip[2] || p.clip[1] >= p.clip[3])
					continue;
				p.clipHash = hashOfClip(p.clip);
				p.vertices = list.VtxBuffer.Data + cmd.VtxOffset;
				const ImDrawIdx *idx = list.IdxBuffer.Data + cmd.IdxOffset;
				const ImDrawIdx *end = idx + cmd.ElemCount;
				while (idx + 3 <= end) {
					p.idx = idx;
					p.quad = idx + 6 <= end && isQuad(p.vertices, idx);
					idx += p.quad ? 6 : 3;
					float x0 = p.vertices[p.idx[0]].pos.x, x1 = x0;
					float y0 = p.vertices[p.idx[0]].pos.y, y1 = y0;
					/* A quad's corners 0 and 2 are opposite: they span it. */
					for (int k = p.quad ? 2 : 1; k <= 2; k++) {
						const ImVec2 &pos = p.vertices[p.idx[k]].pos;
						x0 = std::min(x0, pos.x);
						x1 = std::max(x1, pos.x);
						y0 = std::min(y0, pos.y);
						y1 = std::max(y1, pos.y);
					}
					/*
					 * A pixel's margin each side, and the rasterizer's own on
					 * the far side. Truncation, not floor and ceil: a pixel
					 * more covers what it rounds the wrong way, and it is one
					 * instruction where floor and ceil are a dozen.
					 */
					p.box[0] = std::max(p.clip[0], truncated(x0) - 2);
					p.box[1] = std::max(p.clip[1], truncated(y0) - 2);
					p.box[2] = std::min(p.clip[2], truncated(x1) + 3);
					p.box[3] = std::min(p.clip[3], truncated(y1) + 3);
					if (p.box[0] < p.box[2] && p.box[1] < p.box[3])
						primitives_.push_back(p);
				}
			}
		}
	}

	/* The background and every primitive of the tile row that reaches area, there only. */
	void redrawArea(Raster &raster, uint32_t *pixels, const int area[4], uint32_t background,
			const std::vector<uint32_t> &row)
	{
		for (int y = area[1]; y < area[3]; y++) {
			uint32_t *line = pixels + size_t(y) * size_t(lastWidth_);
			std::fill(line + area[0], line + area[2], background);
		}
		for (uint32_t i : row) {
			const Primitive &p = primitives_[i];
			const int clip[4] = { std::max(p.clip[0], area[0]), std::max(p.clip[1], area[1]),
					      std::min(p.clip[2], area[2]), std::min(p.clip[3], area[3]) };
			if (clip[0] < clip[2] && clip[1] < clip[3] && p.box[0] < area[2] &&
			    p.box[2] > area[0] && p.box[1] < area[3] && p.box[3] > area[1])
				raster.draw(p, clip);
		}
	}

	std::string name_ = "cpu";
	bool incremental_;
	unsigned char *font_ = nullptr;
	int fontWidth_ = 0;
	int fontHeight_ = 0;
	std::vector<Primitive> primitives_;
	/* Per row of tiles, the primitives that reach it, in drawing order. */
	std::vector<std::vector<uint32_t>> rows_;
	/* The last redraw: where it drew, its size and its tiles' hashes. */
	const uint32_t *lastPixels_ = nullptr;
	uint32_t lastWidth_ = 0;
	uint32_t lastHeight_ = 0;
	std::vector<uint64_t> tiles_;
};

} /* namespace */

std::unique_ptr<OverlayRenderer> createCpuOverlayRenderer(bool incremental)
{
	return std::make_unique<CpuOverlayRenderer>(incremental);
}

} /* namespace comp */
