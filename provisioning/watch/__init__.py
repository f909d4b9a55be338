"""A watch-fed view of each cluster (``manage.py watch_clusters``).

``watcher`` lists then watches every rendered kind of every cluster; ``cache`` keeps what it saw in Redis for the
reconcile runs (``cached_owned``, ``cache_synced``); ``changes`` decides which changes need a reconcile and
``enqueue`` sends them, coalesced per registry; ``contact`` records the API server's reachability on the cluster.
"""

from provisioning.watch.cache import cache_synced, cached_owned

__all__ = ["cache_synced", "cached_owned"]
