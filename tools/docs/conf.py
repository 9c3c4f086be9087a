# Sphinx configuration of the collection's docs site (make docs; tools/docs/build.sh).
# Started from `antsibull-docs sphinx-init`; differences: no intersphinx (it fetches
# inventories from the network; this site is built offline), and
# MyST so the Markdown guides in docs/ are pages of the site as they are.
import os

import yaml

project = 'container_storage.devicemapper'
copyright = 'container_storage.devicemapper contributors, GPL-3.0-or-later'
title = 'container_storage.devicemapper'
html_short_title = 'container_storage.devicemapper'

extensions = ['sphinx_antsibull_ext', 'myst_parser']
source_suffix = {'.rst': 'restructuredtext', '.md': 'markdown'}
# The guides' headings are their anchors, as on GitHub ("#moving-off-devicemapper").
myst_heading_anchors = 4

pygments_style = 'ansible'
highlight_language = 'YAML+Jinja'

html_theme = 'sphinx_ansible_theme'
# The theme's logo links to '/' and its top bar to Ansible's sites: point both at this project.
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'galaxy.yml')) as _galaxy:
    _galaxy = yaml.safe_load(_galaxy)
html_theme_options = {
    'documentation_home_url': _galaxy['repository'],
    'topbar_links': {'Repository': _galaxy['repository'], 'Issues': _galaxy['issues']},
}
html_show_sphinx = False
display_version = False
html_use_smartypants = True
html_use_modindex = False
html_use_index = False
html_copy_source = False

default_role = 'any'
nitpicky = True
