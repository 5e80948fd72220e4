"""xlwings-server loads ``custom_scripts`` from its project directory (this add-in
package); the 写入得分 script lives in :mod:`rubric_xl.addin._scripts`."""
from rubric_xl.addin._scripts import write_scores  # noqa: F401
