"""The trainer's scenarios as YAML files (模拟培训场景): ``scenarios/*.yaml`` ship with kefu;
``loader`` reads them, or a team's own, into ``kefu.domain.training`` scenarios."""
