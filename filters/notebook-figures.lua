-- notebook-figures.lua: keep every chapter's figures, tables and code cells in its Jupyter
-- notebook (the "Jupyter" link under "Other Formats"). Runs for the ipynb format only,
-- after Quarto's own renderers (`at: post-render` in _quarto.yml).
--
-- Pandoc's ipynb writer stores an output only from blocks it knows how to turn into a MIME
-- bundle: a paragraph holding one image (-> image/png), a plain code block (-> text/plain),
-- raw HTML or LaTeX, and divs of those. Quarto hands it other blocks, which the writer
-- drops with a "not rendered" warning:
--
-- * a labelled figure (`#| label: fig-...`) becomes a Figure block inside the cell's
--   output, so the notebook got an empty output where the plot should be;
-- * a labelled table (`#| label: tbl-...`) becomes a plain div around the output and its
--   caption, which is not an output at all, so the cell had no output;
-- * a Markdown output (pooling.tables.show_table) becomes a Table block in a div whose
--   extra class (cell-output-markdown) the writer does not expect: no output;
-- * a code cell inside a callout (the exercises' solutions) stays inside the callout's
--   block quote and ends up as Markdown text, not as a cell that runs;
-- * an SVG image (the model graphs) is stored base64-encoded, which Jupyter cannot show.
--
-- This filter turns each Figure into a paragraph with its image (an SVG into inline SVG in
-- an HTML output), renders other blocks of an output as HTML, moves figure and table
-- captions into a Markdown paragraph after the cell (with an anchor for links to the
-- figure), and lifts code cells out of callouts and other containers to the top level,
-- splitting the container around them.

if not quarto.doc.is_format("ipynb") then
  return {}
end

local function has_class(block, class)
  return block.classes ~= nil and block.classes:includes(class)
end

local function is_cell(block)
  return block.t == "Div" and has_class(block, "cell")
end

local function is_output(block)
  return block.t == "Div" and has_class(block, "output")
end

-- Blocks that pandoc's ipynb writer can store in an output's MIME bundle.
local function storable(block)
  if block.t == "Para" then
    return #block.content == 1 and block.content[1].t == "Image"
  end
  return block.t == "CodeBlock"
    or (block.t == "RawBlock" and (block.format == "html" or block.format == "latex"))
end

local function as_html(blocks)
  -- no <colgroup> widths: Jupyter sizes the columns to their contents
  blocks = pandoc.walk_block(pandoc.Div(blocks), {
    Table = function(tbl)
      for i, spec in ipairs(tbl.colspecs) do
        tbl.colspecs[i] = { spec[1], pandoc.ColWidthDefault }
      end
      return tbl
    end,
  }).content
  return pandoc.RawBlock("html", pandoc.write(pandoc.Pandoc(blocks), "html"))
end

-- The output block for one image. Pandoc would store an SVG base64-encoded, which Jupyter
-- cannot show (it expects SVG as text); an inline <svg> in an HTML output shows instead.
local function image_output(img)
  if img.src:match("%.svg$") then
    local ok, _, contents = pcall(pandoc.mediabag.fetch, img.src)
    if ok and contents then
      local svg = contents:gsub("^%s*<%?xml.-%?>%s*", ""):gsub("^%s*<!DOCTYPE.->%s*", "")
      return pandoc.RawBlock("html", svg)
    end
  end
  return pandoc.Para({ img })
end

-- The content of one output div, made storable; captions of figures go to `captions`.
local function fix_output(div, captions)
  local content = pandoc.Blocks({})
  local pending = pandoc.Blocks({}) -- consecutive blocks to render as one HTML block
  local function flush()
    if #pending > 0 then
      content:insert(as_html(pending))
      pending = pandoc.Blocks({})
    end
  end
  for _, block in ipairs(div.content) do
    if block.t == "Figure" then
      flush()
      pandoc.walk_block(pandoc.Div(block.content), {
        Image = function(img) content:insert(image_output(img)) end,
      })
      local caption = block.caption.long
      if block.identifier ~= "" and #caption > 0 and caption[1].content then
        caption[1].content:insert(1, pandoc.RawInline("html", '<a id="' .. block.identifier .. '"></a>'))
      end
      captions:extend(caption)
    elseif (block.t == "Plain" or block.t == "Para") and #block.content == 1
        and block.content[1].t == "Image" then
      flush()
      content:insert(image_output(block.content[1]))
    elseif block.t == "Div" then
      flush()
      content:insert(fix_output(block, captions))
    elseif storable(block) then
      flush()
      content:insert(block)
    else
      pending:insert(block)
    end
  end
  flush()
  div.content = content
  -- the writer matches an output's classes exactly: drop Quarto's extra ones
  -- (e.g. cell-output-markdown), which made it skip Markdown outputs
  for _, kind in ipairs({ "display_data", "execute_result" }) do
    if has_class(div, kind) then
      div.classes = pandoc.List({ "output", kind })
    end
  end
  return div
end

-- A code cell with storable outputs, followed by the captions of its figures and tables.
local function fix_cell(cell)
  local captions = pandoc.Blocks({})
  local content = pandoc.Blocks({})
  for _, block in ipairs(cell.content) do
    if is_output(block) then
      content:insert(fix_output(block, captions))
    elseif block.t == "Div" and #block.content > 0 then
      -- a labelled table or figure wraps the outputs with its caption: unwrap it
      for _, inner in ipairs(block.content) do
        if is_output(inner) then
          content:insert(fix_output(inner, captions))
        else
          captions:insert(inner)
        end
      end
    else
      content:insert(block)
    end
  end
  cell.content = content
  local result = pandoc.Blocks({ cell })
  result:extend(captions)
  return result
end

local function contains_cell(block)
  local found = false
  if block.t == "Div" or block.t == "BlockQuote" then
    pandoc.walk_block(block, {
      Div = function(div)
        if is_cell(div) then found = true end
      end,
    })
  end
  return found
end

-- Top-level blocks for `blocks`: every code cell at the top, the other blocks kept in
-- their containers (`wrap` rebuilds the containers around a run of non-cell blocks).
local function lift(blocks, wrap)
  local out = pandoc.Blocks({})
  local pending = pandoc.Blocks({})
  local function flush()
    if #pending > 0 then
      out:extend(wrap(pending))
      pending = pandoc.Blocks({})
    end
  end
  for _, block in ipairs(blocks) do
    if is_cell(block) then
      flush()
      out:extend(fix_cell(block))
    elseif contains_cell(block) then
      flush()
      local inner
      if block.t == "BlockQuote" then
        inner = function(bs) return wrap({ pandoc.BlockQuote(bs) }) end
      else
        inner = function(bs) return wrap({ pandoc.Div(bs, block.attr) }) end
      end
      out:extend(lift(block.content, inner))
    else
      pending:insert(block)
    end
  end
  flush()
  return out
end

return {
  {
    Pandoc = function(doc)
      doc.blocks = lift(doc.blocks, function(bs) return pandoc.Blocks(bs) end)
      return doc
    end,
  },
}
