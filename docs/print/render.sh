#!/usr/bin/env bash
# Pictures of each sheet as printed (README "打印效果"): the filled examples and an
# audit report over them go through headless LibreOffice to PDF; the first page
# (or last) page of each sheet listed below becomes docs/print/<book>-<sheet>.png.
# Needs soffice, pdftotext and pdftoppm (bash scripts/setup.sh --system).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=docs/print
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/in" "$tmp/pdf"
cp examples/shanxi-2005-full.xlsx examples/xinzhou-2024-xinfu.xlsx "$tmp/in/"
cp workbook_templates/shanxi-2005.xlsx "$tmp/in/shanxi-2005-blank.xlsx"
.venv/bin/rubric-xl score examples/ --format xlsx -o "$tmp/in/report.xlsx" >/dev/null || true
HOME="$tmp" soffice "-env:UserInstallation=file://$tmp/profile" --headless --norestore \
  --convert-to pdf --outdir "$tmp/pdf" "$tmp"/in/*.xlsx >/dev/null 2>&1
declare -A slug=([填报说明]=guide [基本信息]=info [填报]=input [评分]=score [台账]=ledger [汇总]=summary
                 [排名]=ranking [各项得分]=items [问题清单]=problems [台账情况]=ledgers [台账汇总]=rollups)
# book sheet page(first|last): what the README shows
shots="shanxi-2005-full 填报说明 first
shanxi-2005-full 基本信息 first
shanxi-2005-full 填报 first
shanxi-2005-full 评分 first
shanxi-2005-full 评分 last
shanxi-2005-blank 评分 last
xinzhou-2024-xinfu 填报说明 first
xinzhou-2024-xinfu 基本信息 first
xinzhou-2024-xinfu 台账 first
xinzhou-2024-xinfu 汇总 first
report 排名 first
report 排名 last
report 各项得分 first
report 问题清单 first
report 台账情况 first
report 台账汇总 first"
rm -f "$out"/*.png
while read -r book sheet which; do
  pdf="$tmp/pdf/$book.pdf"
  n=$(pdfinfo "$pdf" | awk '/^Pages:/ {print $2}')
  pages=()
  for i in $(seq 1 "$n"); do
    head=$(pdftotext -raw -f "$i" -l "$i" "$pdf" - | sed -n 1p)
    [ "${head##* }" = "$sheet" ] && pages+=("$i")
  done
  [ ${#pages[@]} -gt 0 ] || { echo "$book 没有 $sheet 页" >&2; exit 1; }
  if [ "$which" = first ]; then i=${pages[0]}; else i=${pages[-1]}; fi
  name="$book-${slug[$sheet]}"
  [ "$which" = last ] && name="$name-last"
  pdftoppm -png -r 56 -f "$i" -l "$i" -singlefile "$pdf" "$out/$name"
done <<< "$shots"
ls "$out"/*.png
