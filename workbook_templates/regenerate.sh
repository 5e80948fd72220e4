#!/usr/bin/env bash
# Regenerate the checked-in templates (workbook_templates/) and the filled examples (examples/).
set -euo pipefail
cd "$(dirname "$0")/.."
R=.venv/bin/rubric-xl
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for pack in shanxi-2005 xinzhou-2024 changzhi-2019 shanxi-2019-qingling; do
  $R template build --rules rules/$pack.yaml -o workbook_templates/$pack.xlsx
done
$R template build --rules rules/shanxi-2005.yaml --unit 示例市 -o "$tmp/示例市.xlsx"
$R template fill "$tmp/示例市.xlsx" --facts examples/shanxi-2005-full.yaml -o examples/shanxi-2005-full.xlsx \
  --filler 王明 --phone 0351-1234567 --date 2005-11-14
$R template build --rules rules/shanxi-2005.yaml --unit 运城市 -o "$tmp/运城市.xlsx"
$R template fill "$tmp/运城市.xlsx" --facts examples/yuncheng-2004-seed.yaml -o examples/yuncheng-2004-seed.xlsx \
  --filler 李华 --phone 0359-2345678 --date 2005-11-10
$R template build --rules rules/xinzhou-2024.yaml --unit 忻府区 -o "$tmp/忻府区.xlsx"
$R template fill "$tmp/忻府区.xlsx" --facts examples/xinzhou-2024-xinfu.yaml -o examples/xinzhou-2024-xinfu.xlsx \
  --filler 赵强 --phone 0350-3456789 --date 2024-06-28
$R template build --rules rules/changzhi-2019.yaml --unit 潞州区 -o "$tmp/潞州区.xlsx"
$R template fill "$tmp/潞州区.xlsx" --facts examples/changzhi-2019-luzhou.yaml -o examples/changzhi-2019-luzhou.xlsx \
  --filler 张伟 --phone 0355-2123456 --date 2019-06-27
$R template build --rules rules/shanxi-2019-qingling.yaml --unit 大同市 -o "$tmp/大同市.xlsx"
$R template fill "$tmp/大同市.xlsx" --facts examples/shanxi-2019-qingling-datong.yaml \
  -o examples/shanxi-2019-qingling-datong.xlsx --filler 孙丽 --phone 0352-4567890 --date 2019-09-02
