"""xlwings-server loads ``custom_functions`` from its project directory (this add-in
package) to publish the worksheet functions' metadata; they live in
:mod:`rubric_xl.addin._functions`."""
from rubric_xl.addin._functions import category, explain, grade, item, status, total  # noqa: F401
