"""Kedro project settings. https://docs.kedro.org/en/stable/kedro_project_setup/settings.html"""

import warnings

from kedro.config import OmegaConfigLoader

from ganforge.error_report import install_short_error_hook
from ganforge.hooks import GanForgeHooks
from ganforge.run_version import RunVersionStore
from ganforge.tracking import TrackingHooks

# Pluggy calls the hook registered last first: GanForgeHooks sets up the one-line error report
# before the tracking hook can raise. TrackingHooks is kedro-mlflow's hook, extended; the
# plugin's own copy is switched off so that runs are not logged twice.
HOOKS = (TrackingHooks(), GanForgeHooks())
DISABLE_HOOKS_FOR_PLUGINS = ("kedro-mlflow", "kedro_mlflow")

# The session id is every dataset's save version; GANFORGE_RUN_VERSION, when set (by the Airflow
# DAG templates), makes it one version for all the sessions of a DAG run.
SESSION_STORE_CLASS = RunVersionStore

# Kedro imports these settings before any session exists: errors from then on (an unknown pipeline,
# a bad --env) end in one line as well. Kedro has configured its logging (and rich's traceback
# hook, which this one hands bugs to) by now.
install_short_error_hook()

CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # an environment (conf/local, conf/photos) overrides single nested keys, not whole sections
    "merge_strategy": {"parameters": "soft"},
    # runtime parameters (--params, and kedro reproduce's manifest) never choose a dataset's class
    "restrict_runtime_params_type_selection": True,
}

# Kedro 1.7 itself still calls OmegaConf's deprecated resolver API; nothing for a user to act on.
warnings.filterwarnings("ignore", message=r"register_new_resolver\(\) is deprecated", category=UserWarning)
